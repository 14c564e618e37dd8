package offline_test

import (
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	oidcType        = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
	suppressionType = "aws:sesv2/accountSuppressionAttributes:AccountSuppressionAttributes"
)

// unique are the types whose name (the input given) AWS allows once per account, or per
// account and region (every stack here shares us-east-1).
var unique = map[string]string{
	"aws:iam/role:Role": "name", "aws:iam/policy:Policy": "name", "aws:iam/instanceProfile:InstanceProfile": "name",
	"aws:iam/group:Group": "name", oidcType: "url", "aws:s3/bucketV2:BucketV2": "bucket",
	"aws:sqs/queue:Queue": "name", "aws:sns/topic:Topic": "name", "aws:lambda/function:Function": "name",
	"aws:cloudwatch/logGroup:LogGroup": "name", "aws:kms/alias:Alias": "name", "aws:ecr/repository:Repository": "name",
	"aws:rds/instance:Instance": "identifier", "aws:rds/subnetGroup:SubnetGroup": "name", "aws:rds/parameterGroup:ParameterGroup": "name",
	"aws:lb/loadBalancer:LoadBalancer": "name", "aws:ec2/launchTemplate:LaunchTemplate": "name", "aws:autoscaling/group:Group": "name",
	"aws:scheduler/schedule:Schedule": "name", "aws:cloudwatch/eventRule:EventRule": "name", "aws:cloudwatch/metricAlarm:MetricAlarm": "name",
	"aws:cloudwatch/dashboard:Dashboard": "dashboardName", "aws:budgets/budget:Budget": "name", "aws:backup/vault:Vault": "name",
	"aws:backup/plan:Plan": "name", "aws:wafv2/webAcl:WebAcl": "name", "aws:sesv2/configurationSet:ConfigurationSet": "configurationSetName",
	"aws:sesv2/emailIdentity:EmailIdentity": "emailIdentity", "aws:ssm/parameter:Parameter": "name", "aws:secretsmanager/secret:Secret": "name",
}

// claims maps every account-unique name to the stacks that create it.
func claims(t *testing.T, results map[string]*offline.Result) map[string][]string {
	t.Helper()
	owners := map[string][]string{}
	for stack, res := range results {
		for _, r := range res.Resources {
			if input, ok := unique[r.Type]; ok && r.Str(input) != "" {
				key := r.Type + " " + r.Str(input)
				owners[key] = append(owners[key], stack)
			}
		}
	}
	return owners
}

// Stacks may share an account (README, "Using it for real"). Then no two may create the same
// physical resource, once the later stacks set what the README says: the GitHub OIDC provider
// exists once per account (IAM refuses a second one for the same URL), so they reuse the
// first one's. Without that setting the provider is exactly the collision.
func TestStacksSharingAnAccountDoNotCollide(t *testing.T) {
	provider := "arn:aws:iam::" + offline.Account + ":oidc-provider/token.actions.githubusercontent.com"
	alone := map[string]*offline.Result{}
	for _, stack := range offline.Stacks {
		alone[stack] = offline.Stack(t, stack)
		require.Len(t, alone[stack].OfType(oidcType), 1, "%s in an account of its own creates its provider", stack)
	}
	url := alone["dev"].OfType(oidcType)[0].Str("url")
	for key, stacks := range claims(t, alone) {
		if len(stacks) > 1 {
			assert.Equal(t, oidcType+" "+url, key, "%v all create it", stacks)
		}
	}

	shared := map[string]*offline.Result{"dev": alone["dev"]}
	for _, stack := range []string{"staging", "prod"} {
		res, err := offline.WithValues(t, stack, map[string]string{"canalco:githubOidcProviderArn": provider})
		require.NoError(t, err)
		assert.Empty(t, res.OfType(oidcType))
		shared[stack] = res
	}
	for key, stacks := range claims(t, shared) {
		assert.Len(t, stacks, 1, "%s is created by %v", key, stacks)
	}
}

// The SES suppression list is one setting per account and region, not a named resource:
// every stack sets the same value, so stacks sharing an account never undo each other's.
func TestAccountLevelSettingsAgree(t *testing.T) {
	var want any
	for _, stack := range offline.Stacks {
		res := offline.Stack(t, stack)
		s := res.OfType(suppressionType)
		require.Len(t, s, 1, stack)
		if want == nil {
			want = s[0].Get("suppressedReasons")
		}
		assert.Equal(t, want, s[0].Get("suppressedReasons"), stack)
	}
}
