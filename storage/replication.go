package storage

import (
	"fmt"

	"github.com/canalco/infra/security"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// replicateBackups copies every version of the backups bucket to a bucket in another region
// (seed: "replicación cross-region (opcional)"), so database exports survive the loss of
// the stack's region. The replica has the same protections as the source, with a key of its
// own region, except server access logging: S3 logs only into a bucket of the same region.
func (b *Buckets) replicateBackups(ctx *pulumi.Context, args *BucketsArgs, backups *bucket, sourceKey *security.Key) error {
	e, st := args.Env, args.Settings
	region := st.BackupReplicationRegion
	parent := pulumi.Parent(b)

	provider, err := e.RegionProvider(ctx, e.Name("backups-replica"), region, parent)
	if err != nil {
		return fmt.Errorf("replica provider: %w", err)
	}
	key, err := security.NewKey(ctx, e.Name("storage-replica"), &security.KeyArgs{
		Alias:       e.Name("storage-replica"),
		Description: "Encrypts the backups replica of " + e.Prefix + " in " + region,
		AccountID:   e.AccountID,
		Protect:     e.Protected,
	}, parent, pulumi.Providers(provider))
	if err != nil {
		return err
	}
	name, err := BucketName(e.Prefix, "backups", e.AccountID, region)
	if err != nil {
		return err
	}
	replica, err := newBucket(ctx, bucketSpec{
		name: name, purpose: "backups",
		kmsKeyArn:    key.Arn,
		lifecycle:    documentLifecycle(st, "backups"),
		policy:       true,
		keep:         e.Keep(),
		forceDestroy: !e.Protected,
	}, parent, pulumi.Provider(provider))
	if err != nil {
		return err
	}
	b.BackupReplica = replica.Bucket

	roleName := e.Name("backups-replication")
	role, err := iam.NewRole(ctx, roleName, &iam.RoleArgs{
		Name:             pulumi.String(roleName),
		Description:      pulumi.String("S3 replicates " + backups.Name + " to " + name),
		AssumeRolePolicy: pulumi.String(security.AssumeRole("s3.amazonaws.com", e.AccountID)),
	}, parent)
	if err != nil {
		return fmt.Errorf("replication role: %w", err)
	}
	document := pulumi.All(sourceKey.Arn, key.Arn).ApplyT(func(keys []any) string {
		return replicationPolicy(e.Region, region, backups.Name, name, keys[0].(string), keys[1].(string))
	}).(pulumi.StringOutput)
	policy, err := iam.NewRolePolicy(ctx, roleName, &iam.RolePolicyArgs{Role: role.ID(), Policy: document}, parent)
	if err != nil {
		return fmt.Errorf("replication policy: %w", err)
	}

	_, err = s3.NewBucketReplicationConfig(ctx, backups.Name, &s3.BucketReplicationConfigArgs{
		Bucket: backups.id,
		Role:   role.Arn,
		Rules: s3.BucketReplicationConfigRuleArray{&s3.BucketReplicationConfigRuleArgs{
			Id:     pulumi.String("backups-to-" + region),
			Status: pulumi.String("Enabled"),
			Filter: &s3.BucketReplicationConfigRuleFilterArgs{},
			// A delete on the source hides the object on the replica too; its versions stay.
			DeleteMarkerReplication: &s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs{Status: pulumi.String("Enabled")},
			// Every object is SSE-KMS: without this S3 would skip them all.
			SourceSelectionCriteria: &s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs{
				SseKmsEncryptedObjects: &s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs{Status: pulumi.String("Enabled")},
			},
			Destination: &s3.BucketReplicationConfigRuleDestinationArgs{
				Bucket:                  replica.Arn,
				EncryptionConfiguration: &s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs{ReplicaKmsKeyId: key.Arn},
			},
		}},
	}, parent, pulumi.DependsOn([]pulumi.Resource{backups.versioning, replica.versioning, policy}))
	if err != nil {
		return fmt.Errorf("replication: %w", err)
	}
	return nil
}

// replicationPolicy is the least the replication role needs: read the source's versions,
// write replicas, and use each bucket's key only through S3 for that bucket.
func replicationPolicy(sourceRegion, replicaRegion, source, replica, sourceKeyArn, replicaKeyArn string) string {
	src, dst := "arn:aws:s3:::"+source, "arn:aws:s3:::"+replica
	viaS3 := func(st security.Statement, region, bucketArn string) security.Statement {
		st.Condition = map[string]map[string]any{
			"StringEquals": {"kms:ViaService": "s3." + region + ".amazonaws.com"},
			"StringLike":   {"kms:EncryptionContext:aws:s3:arn": []string{bucketArn, bucketArn + "/*"}},
		}
		return st
	}
	return security.Document(
		security.Allow("ReadReplicationConfiguration", []string{"s3:GetReplicationConfiguration", "s3:ListBucket"}, []string{src}),
		security.Allow("ReadSourceVersions", []string{"s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"}, []string{src + "/*"}),
		security.Allow("WriteReplicas", []string{"s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"}, []string{dst + "/*"}),
		viaS3(security.Allow("DecryptSource", []string{"kms:Decrypt"}, []string{sourceKeyArn}), sourceRegion, src),
		viaS3(security.Allow("EncryptReplica", []string{"kms:Encrypt", "kms:GenerateDataKey"}, []string{replicaKeyArn}), replicaRegion, dst),
	)
}
