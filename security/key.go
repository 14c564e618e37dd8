package security

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// KeyArgs describes a customer-managed KMS key.
type KeyArgs struct {
	// Alias is the key's name without the alias/ prefix, e.g. canalco-dev-logs.
	Alias       string
	Description string
	AccountID   string
	// Statements grant AWS services or roles use of the key, beside the account's own
	// administration statement.
	Statements []Statement
	// Protect keeps the key through `pulumi destroy`: data encrypted with it is unreadable without it.
	Protect bool
}

// Key is a KMS key with rotation, an explicit policy and an alias.
type Key struct {
	pulumi.ResourceState

	Arn       pulumi.StringOutput
	KeyID     pulumi.StringOutput
	AliasName pulumi.StringOutput
}

// NewKey creates a customer-managed key. KMS.4: rotation on. KMS.3: a 30-day deletion
// window and, when protected, Pulumi's protect and retain options.
func NewKey(ctx *pulumi.Context, name string, args *KeyArgs, opts ...pulumi.ResourceOption) (*Key, error) {
	k := &Key{}
	if err := ctx.RegisterComponentResource("canalco:security:Key", name, k, opts...); err != nil {
		return nil, err
	}
	admin := Statement{
		Sid:       "AccountAdministers",
		Effect:    "Allow",
		Principal: map[string]any{"AWS": fmt.Sprintf("arn:aws:iam::%s:root", args.AccountID)},
		Action:    []string{"kms:*"},
		Resource:  []string{"*"},
	}
	childOpts := []pulumi.ResourceOption{pulumi.Parent(k)}
	if args.Protect {
		childOpts = append(childOpts, pulumi.Protect(true), pulumi.RetainOnDelete(true))
	}
	key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
		Description:          pulumi.String(args.Description),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
		Policy:               pulumi.String(Document(append([]Statement{admin}, args.Statements...)...)),
	}, childOpts...)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", args.Alias, err)
	}
	alias, err := kms.NewAlias(ctx, name, &kms.AliasArgs{
		Name:        pulumi.String("alias/" + args.Alias),
		TargetKeyId: key.KeyId,
	}, pulumi.Parent(k))
	if err != nil {
		return nil, fmt.Errorf("key alias %s: %w", args.Alias, err)
	}
	k.Arn, k.KeyID, k.AliasName = key.Arn, key.KeyId, alias.Name
	return k, ctx.RegisterResourceOutputs(k, pulumi.Map{"arn": key.Arn, "keyId": key.KeyId, "alias": alias.Name})
}

// ServiceKeyUse lets an AWS service principal use the key, without condition keys: for the
// services whose KMS calls are not documented to carry aws:SourceAccount or aws:SourceArn (a
// condition on a key the request lacks denies it). The resource the service writes to (topic,
// queue) names who may make the service use it.
func ServiceKeyUse(sid, service string, actions []string) Statement {
	return Statement{Sid: sid, Effect: "Allow", Principal: map[string]any{"Service": service}, Action: actions, Resource: []string{"*"}}
}

// LogsUse lets CloudWatch Logs encrypt this account's log groups in the region with the key.
func LogsUse(region, accountID string) Statement {
	return Statement{
		Sid:       "CloudWatchLogsEncrypt",
		Effect:    "Allow",
		Principal: map[string]any{"Service": fmt.Sprintf("logs.%s.amazonaws.com", region)},
		Action:    []string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"},
		Resource:  []string{"*"},
		Condition: map[string]map[string]any{"ArnLike": {"kms:EncryptionContext:aws:logs:arn": fmt.Sprintf("arn:aws:logs:%s:%s:log-group:*", region, accountID)}},
	}
}
