package delivery_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/security"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// unscopedDeployActions are the deploy role's only actions on Resource "*" with no condition:
// calls that name no resource. Adding one is a change this list must show.
var unscopedDeployActions = []string{
	"ec2:Describe*", "ec2:GetManagedPrefixListEntries", "elasticloadbalancing:Describe*", "autoscaling:Describe*", "rds:Describe*",
	"kms:ListAliases", "kms:ListKeys", "backup-storage:MountCapsule",
	"route53:ListHostedZones", "route53:ListHostedZonesByName",
	"lambda:GetEventSourceMapping", "lambda:ListEventSourceMappings",
	"ses:GetAccount", "ses:PutAccountSuppressionAttributes", "ecr:GetAuthorizationToken",
	// These accept no resource but "*" (Service Authorization Reference).
	"cloudfront:CreateDistribution", "cloudfront:CreateOriginAccessControl", "cloudfront:CreateCachePolicy",
	"cloudfront:CreateOriginRequestPolicy", "cloudfront:CreateResponseHeadersPolicy", "cloudfront:CreateVpcOrigin", "cloudfront:CreateFunction", "ses:CreateTemplate", "ses:UpdateTemplate", "ses:DeleteTemplate", "ses:GetTemplate",
	"ssm:GetCommandInvocation", "ssm:ListCommands", "ssm:ListCommandInvocations", "ssm:CancelCommand",
	"ssm:DescribeInstanceInformation", "ssm:DescribeParameters",
	"logs:DescribeLogGroups", "logs:DescribeMetricFilters", "logs:DescribeSubscriptionFilters",
	// The web ACL's log delivery and its log group's resource policy: "*" only as well.
	"logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:ListLogDeliveries",
	"logs:PutResourcePolicy", "logs:DeleteResourcePolicy", "logs:DescribeResourcePolicies",
}

// unnamed are the resources whose ARNs cannot carry the stack's name, and why they are safe.
var unnamed = map[string]string{
	`arn:aws:ssm:\*::document/AWS-RunShellScript`:        "AWS's document; the instances are pinned by a condition",
	`arn:aws:ec2:\*::image/\*`:                           "images the group launches, only Amazon's (ec2:Owner)",
	`arn:aws:rds:\*:ACCOUNT:og:default:\*`:               "the engine's default option group, which AWS owns and nobody changes",
	`arn:aws:rds:\*:ACCOUNT:snapshot:awsbackup:\*`:       "AWS Backup's database snapshots, deleted only by a stack that keeps no data",
	`arn:aws:ec2:\*::snapshot/\*`:                        "AWS Backup's volume snapshots, deleted only by a stack that keeps no data",
	`arn:aws:ssm:\*::parameter/aws/service/\*`:           "AWS's public parameters (AMI IDs)",
	`arn:aws:cloudfront::ACCOUNT:distribution/\*`:        "the account's distributions, which are the stack's (one account per environment)",
	`arn:aws:secretsmanager:\*:ACCOUNT:secret:rds!db-\*`: "RDS's own master secrets (no value reads); RDS names them",
	`arn:aws:iam::ACCOUNT:role/aws-service-role/\*`:      "service-linked roles, pinned by iam:AWSServiceName",
	`arn:aws:cloudfront::ACCOUNT:(origin-access-control|cache-policy|origin-request-policy|response-headers-policy)/\*`: "ID-named CloudFront settings without tag conditions",
	`arn:aws:cloudfront::ACCOUNT:vpcorigin/\*`:                               "ID-named VPC origins, without tag conditions",
	`arn:aws:elasticloadbalancing:\*:ACCOUNT:targetgroup/\*/\*`:              "the auto-named target group, pinned by the stack's tags",
	`arn:aws:wafv2:\*:\*:global/managedruleset/\*/\*`:                        "AWS's managed rule groups a web ACL references",
	`arn:aws:acm:\*:ACCOUNT:certificate/\*`:                                  "ACM refuses to delete a certificate in use",
	`arn:aws:route53:::change/\*`:                                            "the status of a DNS change",
	`arn:aws:route53:::hostedzone/Z[0-9A-Z]+`:                                "the stack's zone, with record names pinned by a condition",
	`arn:aws:ses:\*:ACCOUNT:identity/[^*]+`:                                  "the stack's SES identity (a domain or an address)",
	`arn:aws:lambda:\*:ACCOUNT:event-source-mapping:\*`:                      "tags of ID-named triggers",
	`arn:aws:logs:\*:ACCOUNT:delivery:\*`:                                    "ID-named log deliveries",
	`arn:aws:rds:\*:ACCOUNT:deployment:\*`:                                   "ID-named Blue/Green deployments (bgd-<id>) of the stack's database, which the same calls name",
	`arn:aws:iam::ACCOUNT:oidc-provider/token.actions.githubusercontent.com`: "read only",
	`arn:aws:s3:::canalco-pulumi-state-ACCOUNT-\*(/\*)?`:                     "the Pulumi state",
	`arn:aws:iam::\*:mfa/\*`:                                                 "MFA devices are named by their users",
}

// ownName reports whether an ARN names only the stack's resources: canalco-<stack>-*, the
// stack's own name (the backup vault, the SES configuration set), /canalco/<stack>/* or, where
// AWS allows no hyphen (restore testing plans), canalco_<stack>_*.
func ownName(arn, stack string) bool {
	return strings.Contains(arn, "canalco-"+stack+"-") || strings.Contains(arn, ":canalco_"+stack+"_") || strings.HasSuffix(arn, ":canalco-"+stack) ||
		strings.HasSuffix(arn, "/canalco-"+stack) || strings.Contains(arn, "parameter/canalco/"+stack+"/")
}

// scopedByCondition reports whether a statement's condition pins it to the stack.
func scopedByCondition(st security.Statement, stack string) bool {
	c := st.Condition
	for _, key := range []string{"aws:ResourceTag", "aws:RequestTag"} {
		if c["StringEquals"][key+"/Project"] == "canalco" && c["StringEquals"][key+"/Environment"] == stack {
			return true
		}
	}
	fn, _ := c["ArnLike"]["lambda:FunctionArn"].(string)
	return strings.Contains(fn, ":function:canalco-"+stack+"-") ||
		c["ForAnyValue:StringEquals"]["kms:ResourceAliases"] == "alias/canalco-pulumi-secrets" ||
		c["StringEquals"]["aws:ResourceTag/aws:autoscaling:groupName"] == "canalco-"+stack+"-backend" ||
		c["StringEquals"]["ec2:CreateAction"] != nil || c["ArnLike"]["ec2:LaunchTemplate"] != nil ||
		oneVpc.MatchString(fmt.Sprint(c["ArnLike"]["ec2:Vpc"])) ||
		// Not the stack's, but only the metadata of S3's AWS managed key.
		(c["StringEquals"]["kms:RequestAlias"] == "alias/aws/s3" && slices.Equal(st.Action, []string{"kms:DescribeKey"}))
}

// oneVpc is the ARN of one VPC, by ID: the stack's.
var oneVpc = regexp.MustCompile(`^arn:aws:ec2:[^:]*:[0-9]{12}:vpc/vpc-[0-9a-f]+$`)

func unnamedReason(arn string) string {
	for pattern, why := range unnamed {
		if regexp.MustCompile("^" + strings.ReplaceAll(pattern, "ACCOUNT", "[0-9]{12}") + "$").MatchString(arn) {
			return why
		}
	}
	return ""
}

// unscopedActions checks every Allow statement's resources and returns the actions allowed
// on Resource "*" with nothing to pin them to the stack.
func unscopedActions(t *testing.T, stack string, sts []security.Statement) []string {
	var out []string
	for _, st := range sts {
		if st.Effect != "Allow" {
			continue
		}
		assert.NotEmpty(t, st.Resource, "%s names its resources", st.Sid)
		for _, r := range st.Resource {
			switch {
			case r == "*" && !scopedByCondition(st, stack):
				out = append(out, st.Action...)
			case r == "*", ownName(r, stack), scopedByCondition(st, stack), unnamedReason(r) != "":
			default:
				t.Errorf("%s: %s is not limited to the stack", st.Sid, r)
			}
		}
	}
	return out
}

// TestDeployRoleIsScopedToTheStack: every resource the deploy role may touch carries the
// stack's name, or a condition pins it to the stack, or it is one of the listed exceptions;
// Resource "*" alone only for the listed actions.
func TestDeployRoleIsScopedToTheStack(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			sts := statements(t, offline.Stack(t, stack), "canalco-"+stack+"-deploy")
			assert.ElementsMatch(t, unscopedDeployActions, unscopedActions(t, stack, sts))
			for _, st := range sts {
				for _, a := range st.Action {
					if st.Effect == "Allow" {
						assert.NotRegexp(t, `^[a-z0-9-]+:\*$|^\*$`, a, "%s: no whole-service grants (IAM.21)", st.Sid)
					}
				}
			}
		})
	}
}

// dataReads are calls that read the platform's data rather than its configuration.
func dataReads(stack string) map[string]string {
	region, account := "us-east-1", offline.AccountOf(stack)
	return map[string]string{
		"s3:GetObject":                  "arn:aws:s3:::canalco-" + stack + "-facturas-" + account + "-" + region + "/2025/factura.pdf",
		"s3:GetObjectVersion":           "arn:aws:s3:::canalco-" + stack + "-backups-" + account + "-" + region + "/dump.sql",
		"secretsmanager:GetSecretValue": "arn:aws:secretsmanager:" + region + ":" + account + ":secret:rds!db-0123-AbCdEf",
		"ssm:GetParameter":              "arn:aws:ssm:" + region + ":" + account + ":parameter/other/secret",
		"sqs:ReceiveMessage":            "arn:aws:sqs:" + region + ":" + account + ":canalco-" + stack + "-audit",
		"logs:GetLogEvents":             "arn:aws:logs:" + region + ":" + account + ":log-group:canalco-" + stack + "-backend:log-stream:x",
		"logs:FilterLogEvents":          "arn:aws:logs:" + region + ":" + account + ":log-group:/aws/lambda/canalco-" + stack + "-audit",
		"lambda:InvokeFunction":         "arn:aws:lambda:" + region + ":" + account + ":function:canalco-" + stack + "-audit",
		"rds:DownloadDBLogFilePortion":  "arn:aws:rds:" + region + ":" + account + ":db:canalco-" + stack + "-postgres",
		"rds:ModifyDBSnapshotAttribute": "arn:aws:rds:" + region + ":" + account + ":snapshot:canalco-" + stack + "-postgres-final",
		"ecr:GetDownloadUrlForLayer":    "arn:aws:ecr:" + region + ":" + account + ":repository/other",
	}
}

// TestPipelinesReadNoData: neither role may read documents, secrets, messages or logs.
func TestPipelinesReadNoData(t *testing.T) {
	for _, stack := range offline.Stacks {
		res := offline.Stack(t, stack)
		for _, role := range []string{"deploy", "preview"} {
			t.Run(stack+"/"+role, func(t *testing.T) {
				sts := statements(t, res, "canalco-"+stack+"-"+role)
				for action, arn := range dataReads(stack) {
					for _, st := range sts {
						assert.False(t, allows(st, action, arn), "%s allows %s on %s", st.Sid, action, arn)
					}
				}
			})
		}
	}
}

// TestPreviewIsReadOnly: the preview role only describes, lists and reads configuration and
// the state, and its denies hold even if a broader policy is attached to it one day.
func TestPreviewIsReadOnly(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			sts := statements(t, offline.Stack(t, stack), "canalco-"+stack+"-preview")
			account := offline.AccountOf(stack)
			for _, a := range unscopedActions(t, stack, sts) {
				assert.Regexp(t, `^[a-z0-9-]+:(Describe|List|Get|View)`, a, "Resource * reads only")
			}
			for _, st := range sts {
				if st.Effect != "Allow" {
					continue
				}
				for _, a := range st.Action {
					ok := regexp.MustCompile(`^[a-z0-9-]+:(Describe|List|Get|View)`).MatchString(a) || (a == "kms:Decrypt" && scopedByCondition(st, stack))
					assert.True(t, ok, "%s: %s is not a read", st.Sid, a)
				}
			}
			denied := func(action, arn string) bool {
				for _, st := range sts {
					if denies(st, action, arn) {
						return true
					}
				}
				return false
			}
			for action, arn := range map[string]string{
				"secretsmanager:GetSecretValue": "arn:aws:secretsmanager:us-east-1:" + account + ":secret:canalco-" + stack + "-smtp-AbCdEf",
				"s3:GetObject":                  "arn:aws:s3:::canalco-" + stack + "-cotizaciones-" + account + "-us-east-1/c.pdf",
				"s3:GetObjectVersion":           "arn:aws:s3:::any-bucket/x",
				"ssm:GetParameter":              "arn:aws:ssm:us-east-1:" + account + ":parameter/db/password",
				"sqs:ReceiveMessage":            "arn:aws:sqs:us-east-1:" + account + ":canalco-" + stack + "-audit",
				"logs:GetLogEvents":             "arn:aws:logs:us-east-1:" + account + ":log-group:canalco-" + stack + "-backend",
			} {
				assert.True(t, denied(action, arn), "the preview guards deny %s on %s", action, arn)
			}
			state := "arn:aws:s3:::canalco-pulumi-state-" + account + "-us-east-1/.pulumi/stacks/canalco/" + stack + ".json"
			assert.False(t, denied("s3:GetObject", state), "the preview reads the state")
			assert.False(t, denied("ssm:GetParameter", "arn:aws:ssm:us-east-1::parameter/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"))
			var decrypt *security.Statement
			for i, st := range sts {
				if denies(st, "kms:Decrypt", "arn:aws:kms:us-east-1:"+account+":key/any") {
					decrypt = &sts[i]
				}
			}
			require.NotNil(t, decrypt, "Decrypt is denied on every key but the secrets key")
			assert.Equal(t, map[string]map[string]any{"ForAllValues:StringNotEquals": {"kms:ResourceAliases": "alias/canalco-pulumi-secrets"}}, decrypt.Condition)
		})
	}
}

// TestNoUsersNoKeysNoAccountChanges: the pipelines create no IAM users or access keys, touch
// no group (administrators are people's business) and leave the organization alone.
func TestNoUsersNoKeysNoAccountChanges(t *testing.T) {
	for _, stack := range offline.Stacks {
		res := offline.Stack(t, stack)
		account := offline.AccountOf(stack)
		admins := "arn:aws:iam::" + account + ":group/canalco-" + stack + "-admins"
		user := "arn:aws:iam::" + account + ":user/someone"
		forbidden := map[string]string{
			"iam:CreateUser": user, "iam:CreateAccessKey": user, "iam:CreateLoginProfile": user, "iam:AttachUserPolicy": user,
			"iam:AddUserToGroup": admins, "iam:AttachGroupPolicy": admins, "iam:PutGroupPolicy": admins, "iam:DeleteGroup": admins,
			"iam:CreatePolicyVersion":         "arn:aws:iam::" + account + ":policy/canalco-" + stack + "-admins-require-mfa",
			"iam:DeleteOpenIDConnectProvider": providerArnOf(stack),
			"organizations:LeaveOrganization": "*",
		}
		for _, role := range []string{"deploy", "preview"} {
			t.Run(stack+"/"+role, func(t *testing.T) {
				// The role's policies and the boundary it carries.
				sts := append(statements(t, res, "canalco-"+stack+"-"+role), document(t, res.Named(policyT, "canalco-"+stack+"-boundary"), "policy")...)
				for action, arn := range forbidden {
					allowed, denied := false, false
					for _, st := range sts {
						allowed = allowed || allows(st, action, arn)
						denied = denied || denies(st, action, arn)
					}
					assert.False(t, allowed && !denied, "%s may %s on %s", role, action, arn)
					// The deploy role can manage IAM, so the guards must hold explicitly.
					assert.True(t, denied, "the guards deny %s on %s", action, arn)
				}
			})
		}
	}
}

// TestRolesArePassedOnlyToServices: iam:PassRole covers the stack's roles, handed only to the
// services that run them (one fixed list, whatever roles the stack has); every role of the
// stack trusts one of them, and the pipeline roles are handed to none.
func TestRolesArePassedOnlyToServices(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			account := offline.AccountOf(stack)
			var services []string
			for _, st := range statements(t, res, "canalco-"+stack+"-deploy") {
				if st.Effect != "Allow" || !anyMatches(st.Action, "iam:PassRole", true) {
					continue
				}
				assert.Equal(t, []string{"iam:PassRole"}, st.Action, st.Sid)
				assert.Equal(t, []string{"arn:aws:iam::" + account + ":role/canalco-" + stack + "-*"}, st.Resource, st.Sid)
				for _, v := range st.Condition["StringEquals"]["iam:PassedToService"].([]any) {
					services = append(services, v.(string))
				}
			}
			require.NotEmpty(t, services, "iam:PassRole names the services")
			boundary := document(t, res.Named(policyT, "canalco-"+stack+"-boundary"), "policy")
			for _, r := range res.OfType(roleT) {
				arn := "arn:aws:iam::" + account + ":role/" + r.Str("name")
				if strings.HasSuffix(r.Str("name"), "-deploy") || strings.HasSuffix(r.Str("name"), "-preview") {
					denied := false
					for _, st := range boundary {
						denied = denied || denies(st, "iam:PassRole", arn)
					}
					assert.True(t, denied, "pipeline roles are never passed: %s", arn)
					continue
				}
				// A role assumed by another role (the report links') is never passed.
				if service, ok := document(t, r, "assumeRolePolicy")[0].Principal["Service"].(string); ok {
					assert.Contains(t, services, service, "%s is passed to its service", r.Str("name"))
				}
			}
		})
	}
}

// TestPoliciesFitIAMQuotas: managed policies under 6,144 characters, at most 10 per role,
// no inline policies (their 10,240-character budget stays unused).
func TestPoliciesFitIAMQuotas(t *testing.T) {
	for _, stack := range offline.Stacks {
		res := offline.Stack(t, stack)
		t.Run(stack, func(t *testing.T) {
			for _, role := range []string{"deploy", "preview", "admins"} {
				policies := rolePolicies(res, "canalco-"+stack+"-"+role)
				require.NotEmpty(t, policies)
				assert.LessOrEqual(t, len(policies), 10, "%s: managed policies per role", role)
				for _, p := range policies {
					assert.Less(t, len(p.Str("policy")), 6144, "%s is %d characters", p.Str("name"), len(p.Str("policy")))
				}
			}
			boundary := res.Named(policyT, "canalco-"+stack+"-boundary").Str("policy")
			assert.Less(t, len(boundary), 6144, "the boundary is %d characters", len(boundary))
			for _, r := range res.OfType("aws:iam/rolePolicy:RolePolicy") {
				assert.Nil(t, res.Ancestor(r, deliveryT), "no inline policies on pipeline roles: %s", r.Name)
			}
			for _, role := range []string{"deploy", "preview"} {
				n := 0
				for _, a := range res.OfType(roleAttT) {
					if a.Str("role") == "canalco-"+stack+"-"+role {
						n++
					}
				}
				assert.Equal(t, len(rolePolicies(res, "canalco-"+stack+"-"+role)), n, "every %s policy is attached", role)
			}
		})
	}
}

// TestRolesStayInTheStacksRegions: the regional guard lists the stack's region, us-east-1
// (global services, CloudFront's certificate and WAF) and the backup copy regions.
func TestRolesStayInTheStacksRegions(t *testing.T) {
	regionsOf := func(t *testing.T, res *offline.Result, role string) []any {
		for _, st := range statements(t, res, role) {
			if st.Sid == "OnlyTheStackRegions" {
				assert.Equal(t, "Deny", st.Effect)
				assert.Equal(t, []string{"*"}, st.Action)
				regions, _ := st.Condition["StringNotEquals"]["aws:RequestedRegion"].([]any)
				return regions
			}
		}
		t.Fatalf("%s has no region guard", role)
		return nil
	}
	for _, stack := range offline.Stacks {
		for _, role := range []string{"deploy", "preview"} {
			assert.Equal(t, []any{"us-east-1"}, regionsOf(t, offline.Stack(t, stack), "canalco-"+stack+"-"+role))
		}
	}
	res, err := withConfig(t, "prod", map[string]string{"canalco:backupCopyRegion": "us-west-2", "canalco:dbBackupReplicationRegion": "us-east-2"})
	require.NoError(t, err)
	assert.Equal(t, []any{"us-east-1", "us-east-2", "us-west-2"}, regionsOf(t, res, "canalco-prod-deploy"))
}

// TestDnsChangesStayWithinTheStacksNames: the deploy role may write exactly the records the
// stack writes, and not another environment's in the shared zone; dev writes none.
func TestDnsChangesStayWithinTheStacksNames(t *testing.T) {
	recordNames := func(t *testing.T, stack string) []string {
		for _, st := range statements(t, offline.Stack(t, stack), "canalco-"+stack+"-deploy") {
			if st.Effect == "Allow" && anyMatches(st.Action, "route53:ChangeResourceRecordSets", true) {
				var out []string
				for _, n := range st.Condition["ForAllValues:StringLike"]["route53:ChangeResourceRecordSetsNormalizedRecordNames"].([]any) {
					out = append(out, n.(string))
				}
				return out
			}
		}
		return nil
	}
	assert.Empty(t, recordNames(t, "dev"))
	assert.Empty(t, offline.Stack(t, "dev").OfType("aws:route53/record:Record"))
	for _, stack := range []string{"staging", "prod"} {
		t.Run(stack, func(t *testing.T) {
			names := recordNames(t, stack)
			require.NotEmpty(t, names)
			records := offline.Stack(t, stack).OfType("aws:route53/record:Record")
			require.NotEmpty(t, records)
			for _, r := range records {
				name := strings.ToLower(strings.TrimSuffix(r.Str("name"), "."))
				assert.True(t, anyMatches(names, name, false), "the deploy role may write %s", name)
			}
		})
	}
	for _, other := range []string{"app.canalco.co", "api.canalco.co", "_dmarc.canalco.co"} {
		assert.False(t, anyMatches(recordNames(t, "staging"), other, false), "staging may not write prod's %s", other)
	}
	// prod's email domain is the zone's apex: its records do not open the whole zone.
	for _, other := range []string{"www.canalco.co", "staging.canalco.co", "canalco.co", "x.app.canalco.co", "evil._dmarc.canalco.co"} {
		assert.False(t, anyMatches(recordNames(t, "prod"), other, false), "prod may not write %s", other)
	}
}

// TestEveryRoleHasTheBoundary: every role of every stack carries the stack's permissions
// boundary and waits for it, and the boundary denies what makes an administrator.
func TestEveryRoleHasTheBoundary(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			boundary := res.Named(policyT, "canalco-"+stack+"-boundary")
			require.NotNil(t, boundary)
			roles := res.OfType(roleT)
			require.NotEmpty(t, roles)
			for _, r := range roles {
				assert.Equal(t, boundary.Outputs["arn"], r.Str("permissionsBoundary"), r.Name)
				assert.True(t, r.DependsOn(boundary.URN), "%s waits for the boundary", r.Name)
			}
			sids := map[string]bool{}
			for _, st := range document(t, boundary, "policy") {
				sids[st.Sid] = true
			}
			for _, sid := range []string{"GuardRails", "DataGuardsButDeploy", "AssumeOnlyStackRoles", "RolesOnlyWithTheBoundary", "NoBoundaryRemoval", "NoPipelineIdentityChanges", "NoPrivilegedPolicies"} {
				assert.True(t, sids[sid], "the boundary has %s", sid)
			}
		})
	}
}

// arnOf is the ARN AWS gives a resource of the plan, for the types the program names.
func arnOf(r *offline.Resource, account string) string {
	region, in := "us-east-1", r.Str
	regional := func(service, resource string) string {
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, region, account, resource)
	}
	switch r.Type {
	case "aws:lambda/function:Function":
		return regional("lambda", "function:"+in("name"))
	case "aws:sqs/queue:Queue":
		return regional("sqs", in("name"))
	case "aws:sns/topic:Topic":
		return regional("sns", in("name"))
	case "aws:cloudwatch/logGroup:LogGroup":
		return regional("logs", "log-group:"+in("name"))
	case "aws:cloudwatch/metricAlarm:MetricAlarm":
		return regional("cloudwatch", "alarm:"+in("name"))
	case "aws:cloudwatch/dashboard:Dashboard":
		return "arn:aws:cloudwatch::" + account + ":dashboard/" + in("dashboardName")
	case "aws:cloudwatch/eventRule:EventRule":
		return regional("events", "rule/"+in("name"))
	case "aws:cloudwatch/logDeliverySource:LogDeliverySource":
		return regional("logs", "delivery-source:"+in("name"))
	case "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination":
		return regional("logs", "delivery-destination:"+in("name"))
	case roleT, policyT, groupT, "aws:iam/instanceProfile:InstanceProfile":
		return fmt.Sprintf("arn:aws:iam::%s:%s/%s", account, map[string]string{roleT: "role", policyT: "policy", groupT: "group", "aws:iam/instanceProfile:InstanceProfile": "instance-profile"}[r.Type], in("name"))
	case "aws:s3/bucketV2:BucketV2":
		return "arn:aws:s3:::" + in("bucket")
	case "aws:s3/bucketObjectv2:BucketObjectv2":
		return "arn:aws:s3:::" + in("bucket") + "/" + in("key")
	case "aws:ecr/repository:Repository":
		return regional("ecr", "repository/"+in("name"))
	case "aws:rds/instance:Instance":
		return regional("rds", "db:"+in("identifier"))
	case "aws:rds/parameterGroup:ParameterGroup":
		return regional("rds", "pg:"+in("name"))
	case "aws:rds/subnetGroup:SubnetGroup":
		return regional("rds", "subgrp:"+in("name"))
	case "aws:rds/eventSubscription:EventSubscription":
		return regional("rds", "es:"+in("name"))
	case "aws:ssm/parameter:Parameter":
		return regional("ssm", "parameter/"+strings.TrimPrefix(in("name"), "/"))
	case "aws:scheduler/schedule:Schedule":
		group := in("groupName")
		if group == "" {
			group = "default"
		}
		return regional("scheduler", "schedule/"+group+"/"+in("name"))
	case "aws:sesv2/configurationSet:ConfigurationSet":
		return regional("ses", "configuration-set/"+in("configurationSetName"))
	case "aws:sesv2/emailIdentity:EmailIdentity":
		return regional("ses", "identity/"+in("emailIdentity"))
	case "aws:backup/vault:Vault":
		return regional("backup", "backup-vault:"+in("name"))
	case "aws:budgets/budget:Budget":
		return "arn:aws:budgets::" + account + ":budget/" + in("name")
	case "aws:wafv2/webAcl:WebAcl":
		return "arn:aws:wafv2:us-east-1:" + account + ":global/webacl/" + in("name") + "/a1b2c3d4"
	case "aws:cloudfront/function:Function":
		return "arn:aws:cloudfront::" + account + ":function/" + in("name")
	case "aws:cloudfront/distribution:Distribution":
		return r.Outputs["arn"].(string)
	case "aws:kms/alias:Alias":
		return regional("kms", in("name"))
	case "aws:lb/loadBalancer:LoadBalancer":
		return regional("elasticloadbalancing", "loadbalancer/app/"+in("name")+"/50dc6c495c0c9188")
	case "aws:lb/targetGroup:TargetGroup":
		// Auto-named: AWS's name for it is generated, not canalco-<stack>-*.
		return regional("elasticloadbalancing", "targetgroup/tf-20260101000000000000000001/943f017f100becff")
	case "aws:autoscaling/group:Group":
		return regional("autoscaling", "autoScalingGroup:8e9a6b4c-0000-4000-8000-000000000000:autoScalingGroupName/"+in("name"))
	}
	return ""
}

// TestDeployRoleReachesEveryNamedResource: each resource of the program whose ARN holds its
// name falls inside one of the deploy role's resource patterns, so a layer that names a
// resource outside canalco-<stack>-* breaks this test rather than the first CI deployment.
func TestDeployRoleReachesEveryNamedResource(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			var patterns []string
			for _, st := range statements(t, res, "canalco-"+stack+"-deploy") {
				if st.Effect == "Allow" {
					for _, r := range st.Resource {
						if r != "*" {
							patterns = append(patterns, r)
						}
					}
				}
			}
			checked := 0
			for _, r := range res.Resources {
				if arn := arnOf(r, offline.AccountOf(stack)); arn != "" && r.Str("name") != "canalco-"+stack+"-admins" {
					checked++
					if r.Type == "aws:lb/targetGroup:TargetGroup" {
						assert.True(t, reachesByTags(t, res, stack, arn), "the deploy role cannot manage %s (%s) by the stack's tags", arn, r.Type)
						continue
					}
					assert.True(t, anyMatches(patterns, arn, false), "the deploy role cannot manage %s (%s)", arn, r.Type)
				}
			}
			assert.Greater(t, checked, 50)
		})
	}
}

// reachesByTags: the target group has no name of the stack, so the deploy role must create it
// with the stack's tags and change and delete it by them: an Allow statement grants each call
// on its ARN only where the tags (aws:RequestTag on creation, aws:ResourceTag after) are the
// stack provider's default tags, which the group carries.
func reachesByTags(t *testing.T, res *offline.Result, stack, arn string) bool {
	t.Helper()
	tags := map[string]string{}
	for _, p := range res.OfType("pulumi:providers:aws") {
		if p.Name == "aws" {
			defaults, _ := p.Get("defaultTags.tags").(map[string]any)
			for k, v := range defaults {
				tags[k] = fmt.Sprint(v)
			}
		}
	}
	require.NotEmpty(t, tags["Project"], "the provider tags every resource with its Project")
	require.NotEmpty(t, tags["Environment"], "the provider tags every resource with its Environment")
	sts := statements(t, res, "canalco-"+stack+"-deploy")
	granted := func(action, key string) bool {
		for _, st := range sts {
			eq := st.Condition["StringEquals"]
			if allows(st, action, arn) && eq != nil &&
				fmt.Sprint(eq[key+"/Project"]) == tags["Project"] && fmt.Sprint(eq[key+"/Environment"]) == tags["Environment"] {
				return true
			}
		}
		return false
	}
	ok := granted("elasticloadbalancing:CreateTargetGroup", "aws:RequestTag")
	for _, action := range []string{"elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"} {
		ok = ok && granted(action, "aws:ResourceTag")
	}
	return ok
}

// TestDeployRoleCanRelease: the calls of scripts/deploy-backend.sh and publish-frontend.sh.
func TestDeployRoleCanRelease(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			sts := statements(t, res, "canalco-"+stack+"-deploy")
			dist := res.OfType("aws:cloudfront/distribution:Distribution")
			require.Len(t, dist, 1)
			account := offline.AccountOf(stack)
			frontend := "arn:aws:s3:::canalco-" + stack + "-frontend-" + account + "-us-east-1"
			asg := "arn:aws:autoscaling:us-east-1:" + account + ":autoScalingGroup:8e9a6b4c-0000-4000-8000-000000000000:autoScalingGroupName/canalco-" + stack + "-backend"
			repo := "arn:aws:ecr:us-east-1:" + account + ":repository/canalco-" + stack + "-backend"
			for _, call := range [][2]string{
				{"s3:PutObject", frontend + "/index.html"}, {"s3:DeleteObject", frontend + "/assets/old.js"}, {"s3:ListBucket", frontend},
				{"cloudfront:CreateInvalidation", dist[0].Outputs["arn"].(string)}, {"cloudfront:GetInvalidation", dist[0].Outputs["arn"].(string)},
				{"ecr:GetAuthorizationToken", "*"}, {"ecr:PutImage", repo}, {"ecr:DescribeImages", repo}, {"ecr:CompleteLayerUpload", repo},
				{"autoscaling:StartInstanceRefresh", asg}, {"autoscaling:CancelInstanceRefresh", asg}, {"autoscaling:DescribeInstanceRefreshes", "*"},
				{"ssm:SendCommand", "arn:aws:ssm:us-east-1::document/AWS-RunShellScript"}, {"ssm:SendCommand", "arn:aws:ec2:us-east-1:" + account + ":instance/i-0abc"},
				{"ssm:GetCommandInvocation", "*"}, {"ssm:DescribeInstanceInformation", "*"},
				{"ssm:CancelCommand", "*"}, {"autoscaling:DescribeAutoScalingGroups", "*"},
				{"ecr:BatchGetImage", repo}, {"ecr:BatchDeleteImage", repo}, {"ecr:ListImages", repo},
				{"ssm:GetParameter", "arn:aws:ssm:us-east-1:" + account + ":parameter/canalco/" + stack + "/backend/release"}, {"ssm:PutParameter", "arn:aws:ssm:us-east-1:" + account + ":parameter/canalco/" + stack + "/backend/release"}, {"ssm:GetParameterHistory", "arn:aws:ssm:us-east-1:" + account + ":parameter/canalco/" + stack + "/backend/release"},
				{"s3:PutObject", "arn:aws:s3:::canalco-pulumi-state-" + account + "-us-east-1/.pulumi/stacks/canalco/" + stack + ".json"},
				// Waking a sleeping stack before a release or an update.
				{"rds:DescribeDBInstances", "arn:aws:rds:us-east-1:" + account + ":db:canalco-" + stack + "-postgres"},
				{"rds:StartDBInstance", "arn:aws:rds:us-east-1:" + account + ":db:canalco-" + stack + "-postgres"},
				{"autoscaling:DescribeScheduledActions", "*"}, {"autoscaling:UpdateAutoScalingGroup", asg},
			} {
				granted := false
				for _, st := range sts {
					granted = granted || allows(st, call[0], call[1])
				}
				assert.True(t, granted, "%s on %s", call[0], call[1])
			}
		})
	}
}
