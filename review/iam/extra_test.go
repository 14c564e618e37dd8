package iamcheck_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/require"
)

// extraCalls are calls the table's rows cannot express, because their resource or context is
// not the row's: what AWS authorizes on other resources while serving a call (the launch
// check, the package Lambda fetches, the keys RDS uses) and what the provider does around its
// own calls (emptying a bucket before deleting it). readsOnly asks for the reads alone.
var extraCalls = map[string]func(p *plan, t *testing.T, r *offline.Resource, readsOnly bool) []request{
	"aws:autoscaling/group:Group":                      writes((*plan).launch),
	"aws:ec2/launchTemplate:LaunchTemplate":            writes(func(_ *plan, t *testing.T, lt *offline.Resource) []request { return []request{imageParameter(t, lt)} }),
	"aws:ec2/subnet:Subnet":                            writes((*plan).lingeringInterfaces),
	"aws:ec2/securityGroup:SecurityGroup":              writes((*plan).lingeringInterfaces),
	"aws:lambda/function:Function":                     writes((*plan).functionCode),
	"aws:lambda/layerVersion:LayerVersion":             writes(func(p *plan, t *testing.T, r *offline.Resource) []request { return p.fetch(t, "publish "+r.Name, r) }),
	"aws:kms/alias:Alias":                              writes((*plan).aliasTarget),
	"aws:wafv2/webAcl:WebAcl":                          writes((*plan).webAclReferences),
	"aws:rds/instance:Instance":                        writes((*plan).databaseResources),
	"aws:s3/bucketV2:BucketV2":                         writes((*plan).emptyBucket),
	"aws:backup/vault:Vault":                           writes((*plan).vaultCalls),
	"aws:s3/bucketObjectv2:BucketObjectv2":             (*plan).objectKey,
	"aws:ecr/repository:Repository":                    writes((*plan).repositoryKey),
	"aws:scheduler/schedule:Schedule":                  writes((*plan).scheduleKey),
	"aws:secretsmanager/secretVersion:SecretVersion":   writes((*plan).secretKey),
	"aws:secretsmanager/secretRotation:SecretRotation": writes((*plan).rotationFunction),
}

// scheduleKey: EventBridge Scheduler encrypts a schedule with its customer managed key using
// the credentials of whoever creates or updates it, who needs kms:DescribeKey,
// kms:GenerateDataKey and kms:Decrypt on the key (EventBridge Scheduler User Guide, "Managing
// your KMS keys"; "Data protection in Amazon EventBridge Scheduler").
func (p *plan) scheduleKey(t *testing.T, s *offline.Resource) []request {
	k := s.Str("kmsKeyArn")
	if k == "" {
		return nil
	}
	via := map[string]any{"kms:ViaService": "scheduler.us-east-1.amazonaws.com"}
	var out []request
	for _, action := range []string{"kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"} {
		out = append(out, p.onKey(t, "schedule "+s.Name, action, k, via))
	}
	return out
}

// secretKey: Secrets Manager encrypts a new value and decrypts a read one with the secret's
// key, as the caller (kms:ViaService secretsmanager).
func (p *plan) secretKey(t *testing.T, v *offline.Resource) []request {
	var secret *offline.Resource
	for _, s := range p.res.OfType("aws:secretsmanager/secret:Secret") {
		if s.Outputs["arn"] == v.Str("secretId") {
			secret = s
		}
	}
	require.NotNil(t, secret, "%s: its secret", v.Name)
	via := map[string]any{"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}
	return []request{p.onKey(t, v.Name, "kms:GenerateDataKey", secret.Str("kmsKeyId"), via), p.onKey(t, v.Name, "kms:Decrypt", secret.Str("kmsKeyId"), via)}
}

// rotationFunction: RotateSecret checks that the caller may invoke the rotation function.
func (p *plan) rotationFunction(_ *testing.T, r *offline.Resource) []request {
	return []request{{what: r.Name, action: "lambda:InvokeFunction", resource: r.Str("rotationLambdaArn"), context: region()}}
}

// writes adapts calls made only by a create, update or delete.
func writes(f func(*plan, *testing.T, *offline.Resource) []request) func(*plan, *testing.T, *offline.Resource, bool) []request {
	return func(p *plan, t *testing.T, r *offline.Resource, readsOnly bool) []request {
		if readsOnly {
			return nil
		}
		return f(p, t, r)
	}
}

// region is the context every call carries.
func region() map[string]any { return map[string]any{"aws:RequestedRegion": "us-east-1"} }

// onKey is a call on one of the stack's keys, by ARN: it sees the key's tags and its key policy.
func (p *plan) onKey(t *testing.T, what, action, keyArn string, ctx map[string]any) request {
	key := p.byArn[keyArn]
	require.NotNil(t, key, "%s: the stack's key %s", what, keyArn)
	c := region()
	maps.Copy(c, p.tagContext(key, false))
	maps.Copy(c, ctx)
	return request{what: what, action: action, resource: keyArn, context: c, resourcePolicy: p.keyPolicy[key.Outputs["keyId"].(string)]}
}

// onObject is a call on an object of one of the stack's buckets, under the bucket's policy.
func (p *plan) onObject(what, action, bucket, key string) request {
	c := region()
	c["aws:SecureTransport"] = "true"
	return request{what: what, action: action, resource: "arn:aws:s3:::" + bucket + "/" + key, context: c, resourcePolicy: p.bucketPolicy[bucket]}
}

// bucketKey is the KMS key a bucket encrypts new objects with ("" for none).
func (p *plan) bucketKey(bucket string) string {
	for _, c := range p.res.OfType("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2") {
		if c.Str("bucket") == bucket {
			return c.Str("rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId")
		}
	}
	return ""
}

// fetch: Lambda reads a package from S3 as the caller (Lambda Developer Guide, "Deploying
// Lambda functions as .zip file archives"): the object's version, and its key through S3.
func (p *plan) fetch(t *testing.T, what string, r *offline.Resource) []request {
	bucket, key := r.Str("s3Bucket"), r.Str("s3Key")
	require.NotEmpty(t, bucket, "%s: a package in S3", what)
	out := []request{p.onObject(what, "s3:GetObject", bucket, key), p.onObject(what, "s3:GetObjectVersion", bucket, key)}
	if k := p.bucketKey(bucket); k != "" {
		out = append(out, p.onKey(t, what, "kms:Decrypt", k, map[string]any{"kms:ViaService": "s3.us-east-1.amazonaws.com"}))
	}
	return out
}

// functionCode: a function's create and update fetch its package and its layers, and a key
// for its environment gets a grant (Lambda Developer Guide, "Securing Lambda environment
// variables").
func (p *plan) functionCode(t *testing.T, f *offline.Resource) []request {
	what := "code of " + f.Name
	out := p.fetch(t, what, f)
	for _, layer := range f.Strings("layers") {
		out = append(out, request{what: what, action: "lambda:GetLayerVersion", resource: layer, context: region()})
	}
	if k := f.Str("kmsKeyArn"); k != "" {
		out = append(out,
			p.onKey(t, what, "kms:CreateGrant", k, map[string]any{"kms:GrantIsForAWSResource": "true"}),
			p.onKey(t, what, "kms:Encrypt", k, nil),
			p.onKey(t, what, "kms:Decrypt", k, map[string]any{"kms:ViaService": "lambda.us-east-1.amazonaws.com"}))
	}
	return out
}

// imageParameter: a launch template whose image is a public parameter is created and used
// with ssm:GetParameters on it (Auto Scaling User Guide, "Use AWS Systems Manager parameters
// instead of AMI IDs in launch templates"). Only Amazon Linux's are expected.
func imageParameter(t *testing.T, lt *offline.Resource) request {
	param, ok := strings.CutPrefix(lt.Str("imageId"), "resolve:ssm:")
	require.True(t, ok && strings.HasPrefix(param, "/aws/service/ami-amazon-linux-latest/"), "%s: an Amazon Linux parameter, not %q", lt.Name, lt.Str("imageId"))
	return request{what: "image of " + lt.Name, action: "ssm:GetParameters", resource: "arn:aws:ssm:us-east-1::parameter" + param, context: region()}
}

// lingeringInterfaces: deleting a subnet or a security group first deletes the network
// interfaces a VPC function left in it (the provider's deleteLingeringENIs; Lambda detaches
// them itself). They are Lambda's, untagged, in the stack's VPC.
func (p *plan) lingeringInterfaces(_ *testing.T, r *offline.Resource) []request {
	ctx := region()
	ctx["ec2:Vpc"] = p.vpcArn(r.Str("vpcId"))
	return []request{{what: "delete " + r.Name, action: "ec2:DeleteNetworkInterface",
		resource: "arn:aws:ec2:us-east-1:" + p.account + ":network-interface/eni-0123456789abcdef0", context: ctx}}
}

// aliasTarget: KMS authorizes an alias's create, update and delete on its key too (KMS
// Developer Guide, "Controlling access to aliases").
func (p *plan) aliasTarget(t *testing.T, alias *offline.Resource) []request {
	target := alias.Str("targetKeyId")
	for _, k := range p.res.OfType("aws:kms/key:Key") {
		if k.Outputs["keyId"] == target {
			target = k.Outputs["arn"].(string)
		}
	}
	var out []request
	for _, action := range []string{"kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"} {
		out = append(out, p.onKey(t, "alias "+alias.Name, action, target, nil))
	}
	return out
}

// webAclReferences: a web ACL's create and update are authorized on the IP sets its rules
// reference too (Service Authorization Reference: CreateWebACL, UpdateWebACL).
func (p *plan) webAclReferences(t *testing.T, acl *offline.Resource) []request {
	var out []request
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["ipSetReferenceStatement"].(map[string]any); ok {
				set := p.byArn[fmt.Sprint(ref["arn"])]
				require.NotNil(t, set, "%s references the stack's IP set %v", acl.Name, ref["arn"])
				for _, action := range []string{"wafv2:CreateWebACL", "wafv2:UpdateWebACL"} {
					c := region()
					maps.Copy(c, p.tagContext(set, false))
					out = append(out, request{what: "web ACL " + acl.Name, action: action, resource: ref["arn"].(string), context: c})
				}
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(acl.Get("rules"))
	require.NotEmpty(t, out, "%s references the offices' IP set", acl.Name)
	return out
}

// databaseResources: RDS authorizes a database's create on the groups it names, the default
// option group included, and creates the master secret, the storage and Performance Insights
// grants and the final snapshot with the caller's rights (RDS User Guide, "Password management
// with Amazon RDS and AWS Secrets Manager" and "Key management").
func (p *plan) databaseResources(t *testing.T, db *offline.Resource) []request {
	what := "database " + db.Name
	rds := func(resource string) string { return "arn:aws:rds:us-east-1:" + p.account + ":" + resource }
	c := region()
	maps.Copy(c, p.tagContext(db, true))
	major, _, _ := strings.Cut(db.Str("engineVersion"), ".")
	out := []request{
		{what: what, action: "rds:CreateDBInstance", resource: rds("pg:" + db.Str("parameterGroupName")), context: c},
		{what: what, action: "rds:CreateDBInstance", resource: rds("subgrp:" + db.Str("dbSubnetGroupName")), context: c},
		{what: what, action: "rds:CreateDBInstance", resource: rds("og:default:" + db.Str("engine") + "-" + major), context: c},
		{what: what, action: "rds:ModifyDBInstance", resource: rds("pg:" + db.Str("parameterGroupName")), context: region()},
		{what: what, action: "rds:ModifyDBInstance", resource: rds("og:default:" + db.Str("engine") + "-" + major), context: region()},
	}
	for _, field := range []string{"kmsKeyId", "performanceInsightsKmsKeyId"} {
		k := db.Str(field)
		require.NotEmpty(t, k, "%s: %s", what, field)
		out = append(out, p.onKey(t, what, "kms:DescribeKey", k, nil), p.onKey(t, what, "kms:CreateGrant", k, map[string]any{"kms:GrantIsForAWSResource": "true"}))
	}
	// A replica is created from its source, which RDS authorizes too.
	if src := db.Str("replicateSourceDb"); src != "" {
		out = append(out,
			request{what: what, action: "rds:CreateDBInstanceReadReplica", resource: rds("db:" + db.Str("identifier")), context: c},
			request{what: what, action: "rds:CreateDBInstanceReadReplica", resource: rds("db:" + src), context: region()})
	}
	if !db.Bool("skipFinalSnapshot") {
		snapshot := rds("snapshot:" + db.Str("finalSnapshotIdentifier"))
		out = append(out,
			request{what: what, action: "rds:CreateDBSnapshot", resource: snapshot, context: region()},
			request{what: what, action: "rds:AddTagsToResource", resource: snapshot, context: region()})
	}
	return out
}

// emptyBucket: deleting a bucket with forceDestroy (the stacks that keep no data) first
// deletes every version of every object (the provider's emptyBucket).
func (p *plan) emptyBucket(_ *testing.T, b *offline.Resource) []request {
	if !b.Bool("forceDestroy") {
		return nil
	}
	name, what := b.Str("bucket"), "empty "+b.Name
	c := region()
	c["aws:SecureTransport"] = "true"
	return []request{
		{what: what, action: "s3:ListBucketVersions", resource: "arn:aws:s3:::" + name, context: c, resourcePolicy: p.bucketPolicy[name]},
		p.onObject(what, "s3:DeleteObjectVersion", name, "any/object"),
	}
}

// vaultCalls: creating a vault with a customer managed key uses the key with the caller's
// rights (AWS Backup Developer Guide, "Encryption for backups in AWS Backup"); deleting a vault
// with forceDestroy first deletes its recovery points, the database's snapshots and the
// volumes' (the provider's resourceVaultDelete).
func (p *plan) vaultCalls(t *testing.T, v *offline.Resource) []request {
	what := "vault " + v.Name
	k := v.Str("kmsKeyArn")
	require.NotEmpty(t, k, "%s: a customer managed key (Backup.1)", what)
	via := map[string]any{"kms:ViaService": "backup.us-east-1.amazonaws.com"}
	out := []request{
		p.onKey(t, what, "kms:DescribeKey", k, nil),
		p.onKey(t, what, "kms:CreateGrant", k, map[string]any{"kms:GrantIsForAWSResource": "true"}),
		p.onKey(t, what, "kms:GenerateDataKey", k, via),
		p.onKey(t, what, "kms:Decrypt", k, via),
	}
	if !v.Bool("forceDestroy") {
		return out
	}
	out = append(out, request{what: what, action: "backup:ListRecoveryPointsByBackupVault",
		resource: "arn:aws:backup:us-east-1:" + p.account + ":backup-vault:" + v.Str("name"), context: region()})
	for _, point := range []string{
		"arn:aws:rds:us-east-1:" + p.account + ":snapshot:awsbackup:job-0123456789abcdef",
		"arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0",
	} {
		for _, action := range []string{"backup:DescribeRecoveryPoint", "backup:DeleteRecoveryPoint"} {
			out = append(out, request{what: what, action: action, resource: point, context: region()})
		}
	}
	return out
}

// objectKey: reading an object encrypted with a KMS key looks up S3's AWS managed key
// (alias/aws/s3) to tell it apart (the provider's setObjectKMSKeyID), under that key's policy.
func (p *plan) objectKey(_ *testing.T, o *offline.Resource, _ bool) []request {
	if p.bucketKey(o.Str("bucket")) == "" {
		return nil
	}
	p.documents[s3ManagedKeyPolicy] = json.RawMessage(`{"Version": "2012-10-17", "Statement": [{"Sid": "Allow direct access to key metadata to the account",
		"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::` + p.account + `:root"}, "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"], "Resource": "*"}]}`)
	c := region()
	c["kms:RequestAlias"] = "alias/aws/s3"
	return []request{{what: "read " + o.Name, action: "kms:DescribeKey", resource: "arn:aws:kms:us-east-1:" + p.account + ":key/0a1b2c3d-aws-s3-managed-key",
		context: c, resourcePolicy: s3ManagedKeyPolicy}}
}

// repositoryKey: creating a repository encrypted with ECR's AWS managed key (aws/ecr) has ECR
// describe the key and grant itself its use, with the caller's rights (Amazon ECR User Guide,
// "Encryption at rest"); that key's policy allows it to the account's principals through ECR.
func (p *plan) repositoryKey(_ *testing.T, repo *offline.Resource) []request {
	if repo.Str("encryptionConfigurations.0.encryptionType") != "KMS" || repo.Str("encryptionConfigurations.0.kmsKey") != "" {
		return nil
	}
	p.documents[ecrManagedKeyPolicy] = json.RawMessage(`{"Version": "2012-10-17", "Statement": [{"Sid": "Allow access through Amazon ECR for all principals in the account that are authorized to use Amazon ECR",
		"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey", "kms:RetireGrant"], "Resource": "*",
		"Condition": {"StringEquals": {"kms:ViaService": "ecr.us-east-1.amazonaws.com", "kms:CallerAccount": "` + p.account + `"}}}]}`)
	c := region()
	c["kms:ViaService"], c["kms:CallerAccount"], c["kms:GrantIsForAWSResource"] = "ecr.us-east-1.amazonaws.com", p.account, "true"
	var out []request
	for _, action := range []string{"kms:DescribeKey", "kms:CreateGrant"} {
		out = append(out, request{what: "repository " + repo.Name, action: action, resource: "arn:aws:kms:us-east-1:" + p.account + ":key/0a1b2c3d-aws-ecr-managed-key",
			context: c, resourcePolicy: ecrManagedKeyPolicy})
	}
	return out
}

// ecrManagedKeyPolicy names the ECR statement of the aws/ecr key's policy.
const ecrManagedKeyPolicy = "AWS managed key aws/ecr policy"

// s3ManagedKeyPolicy names the metadata statement of an AWS managed key's policy (KMS
// Developer Guide, "AWS managed keys": every such key lets the account's principals read its
// metadata, as their IAM policies allow).
const s3ManagedKeyPolicy = "AWS managed key aws/s3 policy"

// launch is the check Auto Scaling makes when a create or update sets the group's launch
// template: the caller must be allowed to launch it (Auto Scaling User Guide, "Amazon EC2
// Auto Scaling API permissions" and "Control Amazon EC2 launch template usage in Auto Scaling
// groups"). That is ec2:RunInstances on every resource of the launch, the tags of the
// template's tag specifications, the image's public parameter, and iam:PassRole of the
// instance profile's role to EC2.
func (p *plan) launch(t *testing.T, group *offline.Resource) []request {
	t.Helper()
	ec2 := func(kind, id string) string { return "arn:aws:ec2:us-east-1:" + p.account + ":" + kind + "/" + id }
	ltID := group.Str("mixedInstancesPolicy.launchTemplate.launchTemplateSpecification.launchTemplateId")
	lt := p.byID[ltID]
	require.NotNil(t, lt, "%s's launch template %q", group.Name, ltID)
	template := ec2("launch-template", ltID)
	// fromTemplate: ec2:IsLaunchTemplateResource, false for what the group itself names.
	launching := func(fromTemplate bool, on *offline.Resource) map[string]any {
		ctx := region()
		ctx["ec2:LaunchTemplate"], ctx["ec2:IsLaunchTemplateResource"] = template, strconv.FormatBool(fromTemplate)
		if on != nil {
			maps.Copy(ctx, p.tagContext(on, false))
		}
		return ctx
	}
	what := "launch check of " + group.Name
	run := func(resource string, ctx map[string]any) request {
		return request{what: what, action: "ec2:RunInstances", resource: resource, context: ctx}
	}
	out := []request{run(template, launching(true, lt))}
	for _, id := range group.Strings("vpcZoneIdentifiers") {
		require.NotNil(t, p.byID[id], "subnet %s", id)
		out = append(out, run(ec2("subnet", id), launching(false, p.byID[id])))
	}
	for _, id := range lt.Strings("networkInterfaces.0.securityGroups") {
		sg := p.byID[id]
		require.NotNil(t, sg, "security group %s", id)
		ctx := launching(true, sg)
		ctx["ec2:Vpc"] = p.vpcArn(sg.Str("vpcId"))
		out = append(out, run(ec2("security-group", id), ctx))
	}
	// What the launch creates, and tags with the template's tag specifications.
	for i := range lt.List("tagSpecifications") {
		kind := lt.Str(fmt.Sprintf("tagSpecifications.%d.resourceType", i))
		out = append(out, run(ec2(kind, "*"), launching(true, nil)))
		spec := &offline.Resource{Inputs: map[string]any{"tags": lt.Get(fmt.Sprintf("tagSpecifications.%d.tags", i))}}
		tags := p.tagContext(spec, true)
		tags["ec2:CreateAction"], tags["aws:RequestedRegion"] = "RunInstances", "us-east-1"
		out = append(out, request{what: what, action: "ec2:CreateTags", resource: ec2(kind, "*"), context: tags})
	}
	// The image is Amazon Linux's, named by AWS's public parameter.
	out = append(out, imageParameter(t, lt))
	image := launching(true, nil)
	image["ec2:Owner"] = "amazon"
	out = append(out, run("arn:aws:ec2:us-east-1::image/ami-0123456789abcdef0", image))
	profile := p.byArn[lt.Str("iamInstanceProfile.arn")]
	require.NotNil(t, profile, "%s's instance profile", lt.Name)
	return append(out, p.passRole(what, profile.Str("role"), "ec2.amazonaws.com"))
}
