// Package logs creates CloudWatch log groups the one way the platform allows: with a
// retention and encrypted with the stack's logs key (CloudWatch.16 and data-at-rest rules).
package logs

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Settings are what every log group of a stack shares.
type Settings struct {
	RetentionDays int
	KmsKeyArn     pulumi.StringInput
}

// NewGroup creates the log group name (logical and AWS name alike).
func NewGroup(ctx *pulumi.Context, logical, name string, s Settings, opts ...pulumi.ResourceOption) (*cloudwatch.LogGroup, error) {
	return cloudwatch.NewLogGroup(ctx, logical, &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(name),
		RetentionInDays: pulumi.Int(s.RetentionDays),
		KmsKeyId:        s.KmsKeyArn,
	}, opts...)
}
