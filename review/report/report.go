// Package report renders the offline plan of a stack as text: what `pulumi up` would create
// (the component tree with each resource's key settings, counts by type), the security policy
// report and the monthly cost estimate. The output is sorted so two runs can be diffed.
package report

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/review/cost"
	"github.com/canalco/infra/review/graph"
	"github.com/canalco/infra/review/policy"
	"github.com/canalco/infra/settings"
)

// keySettings are the few inputs the tree shows per resource type, as label=path. Types not
// listed show their type and name only.
var keySettings = map[string][]string{
	"pulumi:providers:aws":                                       {"region=region"},
	"aws:ec2/vpc:Vpc":                                            {"cidr=cidrBlock"},
	"aws:ec2/subnet:Subnet":                                      {"cidr=cidrBlock", "az=availabilityZone"},
	"aws:ec2/vpcEndpoint:VpcEndpoint":                            {"type=vpcEndpointType", "service=serviceName"},
	"aws:ec2/flowLog:FlowLog":                                    {"traffic=trafficType"},
	"aws:ec2/launchTemplate:LaunchTemplate":                      {"type=instanceType", "imds=metadataOptions.httpTokens", "disk=blockDeviceMappings.0.ebs.volumeSize"},
	"aws:autoscaling/group:Group":                                {"min=minSize", "max=maxSize", "health=healthCheckType"},
	"aws:lb/loadBalancer:LoadBalancer":                           {"type=loadBalancerType", "internal=internal", "deletionProtection=enableDeletionProtection"},
	"aws:lb/listener:Listener":                                   {"protocol=protocol", "port=port", "tls=sslPolicy"},
	"aws:lb/targetGroup:TargetGroup":                             {"protocol=protocol", "port=port", "health=healthCheck.path"},
	"aws:rds/instance:Instance":                                  {"class=instanceClass", "engine=engine", "version=engineVersion", "multiAz=multiAz", "storage=allocatedStorage", "backups=backupRetentionPeriod"},
	"aws:s3/bucketV2:BucketV2":                                   {"bucket=bucket"},
	"aws:s3/bucketVersioningV2:BucketVersioningV2":               {"versioning=versioningConfiguration.status"},
	"aws:cloudfront/distribution:Distribution":                   {"aliases=aliases", "priceClass=priceClass", "root=defaultRootObject"},
	"aws:lambda/function:Function":                               {"runtime=runtime", "memory=memorySize", "timeout=timeout", "arch=architectures"},
	"aws:sqs/queue:Queue":                                        {"visibility=visibilityTimeoutSeconds", "retention=messageRetentionSeconds"},
	"aws:scheduler/schedule:Schedule":                            {"schedule=scheduleExpression", "tz=scheduleExpressionTimezone"},
	"aws:cloudwatch/logGroup:LogGroup":                           {"retention=retentionInDays"},
	"aws:cloudwatch/metricAlarm:MetricAlarm":                     {"metric=metricName", "threshold=threshold"},
	"aws:kms/key:Key":                                            {"rotation=enableKeyRotation"},
	"aws:ecr/repository:Repository":                              {"tags=imageTagMutability", "scanOnPush=imageScanningConfiguration.scanOnPush"},
	"aws:wafv2/webAcl:WebAcl":                                    {"scope=scope"},
	"aws:budgets/budget:Budget":                                  {"limit=limitAmount"},
	"aws:backup/restoreTestingPlan:RestoreTestingPlan":           {"schedule=scheduleExpression", "tz=scheduleExpressionTimezone", "points=recoveryPointSelection.algorithm"},
	"aws:backup/restoreTestingSelection:RestoreTestingSelection": {"type=protectedResourceType", "class=restoreMetadataOverrides.dbInstanceClass", "validationHours=validationWindowHours"},
	"aws:backup/vaultLockConfiguration:VaultLockConfiguration":   {"coolingOffDays=changeableForDays", "minDays=minRetentionDays", "maxDays=maxRetentionDays"},
	"aws:route53/record:Record":                                  {"name=name", "type=type"},
}

// ruleTypes show the port and the other side of a security-group rule.
var ruleTypes = map[string]bool{
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": true,
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":   true,
}

// Plan writes the whole plan of a stack and returns its policy report.
func Plan(w io.Writer, res *offline.Result, s *settings.Settings) *policy.Report {
	x := graph.New(res)
	custom := 0
	for _, r := range res.Resources {
		if r.Custom {
			custom++
		}
	}
	fmt.Fprintf(w, "Stack %s  environment %s  region %s\n", s.Stack, s.Environment, s.Region)
	fmt.Fprintf(w, "Resources: %d (%d AWS resources, %d components and providers)\n", len(res.Resources), custom, len(res.Resources)-custom)
	if s.Domain.Zone != "" {
		// The program looks the zone up: it must exist, delegated, before the first `pulumi up`.
		fmt.Fprintf(w, "DNS zone: %s (existing Route 53 public hosted zone; records below as aws:route53/record:Record)\n", s.Domain.Zone)
	}

	fmt.Fprintln(w, "\n== Resources ==")
	tree(w, x)

	fmt.Fprintln(w, "\n== Counts by type ==")
	for _, c := range res.CountByType() {
		fmt.Fprintf(w, "%5d  %s\n", c.Count, c.Type)
	}

	fmt.Fprintln(w, "\n== Security ==")
	rep := policy.Evaluate(res, s)
	Security(w, rep)

	fmt.Fprintln(w, "\n== Cost ==")
	Cost(w, cost.Of(res, s))
	return rep
}

// tree prints each component with its children indented, sorted by name then type.
func tree(w io.Writer, x *graph.Index) {
	children := map[string][]*offline.Resource{}
	for _, r := range x.Result.Resources {
		parent := r.Parent
		if x.ByURN(parent) == nil {
			parent = "" // the stack itself
		}
		children[parent] = append(children[parent], r)
	}
	var walk func(parent string, depth int)
	walk = func(parent string, depth int) {
		list := children[parent]
		sort.SliceStable(list, func(i, j int) bool {
			if list[i].Name != list[j].Name {
				return list[i].Name < list[j].Name
			}
			return list[i].Type < list[j].Type
		})
		for _, r := range list {
			line := strings.Repeat("  ", depth) + r.Type + "  " + r.Name
			if k := keys(r, x); k != "" {
				line += "  " + k
			}
			fmt.Fprintln(w, line)
			walk(r.URN, depth+1)
		}
	}
	walk("", 0)
}

// keys renders a resource's key settings.
func keys(r *offline.Resource, x *graph.Index) string {
	if ruleTypes[r.Type] {
		return fmt.Sprintf("port=%s %s=%s", ports(r), map[bool]string{true: "from", false: "to"}[strings.Contains(r.Type, "Ingress")], peer(r, x))
	}
	var parts []string
	for _, kv := range keySettings[r.Type] {
		label, path, _ := strings.Cut(kv, "=")
		if v := format(r.Get(path)); v != "" {
			parts = append(parts, label+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

func ports(r *offline.Resource) string {
	from, to := r.Num("fromPort"), r.Num("toPort")
	if r.Str("ipProtocol") == "-1" {
		return "all"
	}
	if from == to {
		return format(from)
	}
	return format(from) + "-" + format(to)
}

// peer names the other side of a security-group rule.
func peer(r *offline.Resource, x *graph.Index) string {
	if id := r.Str("referencedSecurityGroupId"); id != "" {
		if sg := x.Ref(id, "aws:ec2/securityGroup:SecurityGroup"); sg != nil {
			return "sg:" + sg.Name
		}
		return id
	}
	if pl := r.Str("prefixListId"); pl != "" {
		return "prefix-list:" + pl
	}
	return r.Str("cidrIpv4") + r.Str("cidrIpv6")
}

// format renders an input value compactly.
func format(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case []any:
		var parts []string
		for _, e := range t {
			parts = append(parts, format(e))
		}
		return strings.Join(parts, ",")
	case offline.Secret:
		return "[secret]"
	case offline.Unknown:
		return "(known after deploy)"
	}
	return fmt.Sprint(v)
}

// Security prints failures first (worst first), then accepted exceptions, then the summary.
func Security(w io.Writer, rep *policy.Report) {
	if len(rep.Failures) > 0 {
		fmt.Fprintf(w, "Failed (%d):\n", len(rep.Failures))
	}
	for _, f := range rep.Failures {
		fmt.Fprintf(w, "  FAIL %-17s %-8s %s  %s\n", f.Rule.ID, f.Rule.Severity, f.Resource.Type, f.Resource.Name)
		fmt.Fprintf(w, "       %s: %s\n       fix: %s\n", f.Rule.Title, f.Message, f.Rule.Fix)
	}
	if len(rep.Excepted) > 0 {
		fmt.Fprintf(w, "Accepted exceptions (%d):\n", len(rep.Excepted))
	}
	for _, f := range rep.Excepted {
		fmt.Fprintf(w, "  EXCEPT %-15s %-8s %s  %s\n", f.Rule.ID, f.Rule.Severity, f.Resource.Type, f.Resource.Name)
		fmt.Fprintf(w, "       %s\n       reason: %s\n", f.Message, f.Reason)
	}
	fmt.Fprintf(w, "Security summary: %d passed, %d failed, %d excepted\n", rep.Passed, len(rep.Failures), len(rep.Excepted))
}

// Cost prints the itemized estimate, the total against the goal and, when the goal is missed,
// the cheapest compliant configuration.
func Cost(w io.Writer, e *cost.Estimate) {
	fmt.Fprintln(w, "Assumptions:")
	for _, a := range e.Assumptions {
		fmt.Fprintf(w, "  - %s\n", a)
	}
	fmt.Fprintf(w, "\n  %-16s %-44s %10s  %s\n", "Service", "Resource", "USD/month", "How")
	for _, it := range e.Items {
		if it.Extra == "" {
			fmt.Fprintf(w, "  %-16s %-44s %10.2f  %s\n", it.Service, it.Resource, it.Monthly, it.Detail)
		}
	}
	fmt.Fprintf(w, "Seed scope: $%.2f / month (the seed's parts, like for like with its ~$300)\n", e.SeedScope)
	fmt.Fprintln(w, "Beyond the seed:")
	for _, it := range e.Items {
		if it.Extra != "" {
			fmt.Fprintf(w, "  %-16s %-44s %10.2f  %s (%s)\n", it.Service, it.Resource, it.Monthly, it.Detail, it.Extra)
		}
	}
	fmt.Fprintf(w, "Extras: $%.2f / month\n", e.Extras)
	verdict := "met"
	if !e.Met() {
		verdict = fmt.Sprintf("over by $%.2f", e.Total-e.Goal)
	}
	measured := "seed scope"
	if e.Env == settings.Dev {
		measured = "everything"
	}
	fmt.Fprintf(w, "Total: $%.2f / month; goal $%.0f (canalco:monthlyBudgetUsd, for %s): %s\n", e.Total, e.Goal, measured, verdict)
	if c := e.Cheapest; c != nil {
		gap := "meets the goal"
		if c.Total > e.Goal {
			gap = fmt.Sprintf("still $%.2f over the goal", c.Total-e.Goal)
		}
		fmt.Fprintf(w, "Cheapest compliant configuration: $%.2f / month (%s)\n", c.Total, gap)
		if len(c.Changes) == 0 {
			fmt.Fprintln(w, "  - the stack already uses the cheapest instance type and database class its requirements allow")
		}
		for _, ch := range c.Changes {
			fmt.Fprintf(w, "  - %s\n", ch)
		}
	}
}
