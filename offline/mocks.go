package offline

import (
	"fmt"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// mocks stands in for the Pulumi engine and the AWS provider: it records every resource and
// answers with the outputs AWS would compute, shaped like AWS's own.
type mocks struct {
	region  string
	account string // the account the credentials belong to
	mu      sync.Mutex
	seen    []*Resource
	calls   []Call
}

// Call is one provider function (invoke) the program made, with its arguments: the IAM
// check proves the pipeline roles may make each one.
type Call struct {
	Token string
	Args  map[string]any
}

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	rpc := args.RegisterRPC
	r := &Resource{
		Type:    args.TypeToken,
		Name:    args.Name,
		Custom:  args.Custom,
		Inputs:  plainMap(args.Inputs),
		Outputs: map[string]any{},
	}
	if rpc != nil {
		r.Parent = rpc.GetParent()
		r.Dependencies = rpc.GetDependencies()
		r.Protect = rpc.GetProtect()
		r.RetainOnDelete = rpc.GetRetainOnDelete()
		r.IgnoreChanges = rpc.GetIgnoreChanges()
		r.DeleteBeforeReplace = rpc.GetDeleteBeforeReplace()
		r.ReplaceOnChanges = rpc.GetReplaceOnChanges()
		r.Provider = rpc.GetProvider()
	}
	state := args.Inputs.Copy()
	id := args.Name + "-id"
	if args.Custom {
		computed := m.computed(args.TypeToken, awsName(r), args.Inputs)
		for k, v := range computed {
			if _, set := state[resource.PropertyKey(k)]; !set || k == "arn" || k == "dkimSigningAttributes" {
				state[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
			}
		}
		if v, ok := computed["id"].(string); ok {
			id = v
		}
		r.Outputs = plainMap(state)
	}
	m.mu.Lock()
	m.seen = append(m.seen, r)
	m.mu.Unlock()
	return id, state, nil
}

// awsName is the name AWS will know a resource by: its explicit name input, or the logical name.
func awsName(r *Resource) string {
	for _, k := range []string{"name", "bucket", "identifier", "functionName", "repositoryName", "emailIdentity"} {
		if s, ok := r.Inputs[k].(string); ok && s != "" {
			return s
		}
	}
	return r.Name
}

// computed returns the outputs AWS assigns at creation for a resource type.
func (m *mocks) computed(token, name string, in resource.PropertyMap) map[string]any {
	module := strings.SplitN(strings.TrimPrefix(token, "aws:"), "/", 2)[0]
	kind := token[strings.LastIndex(token, ":")+1:]
	out := map[string]any{
		"arn": fmt.Sprintf("arn:aws:%s:%s:%s:%s/%s", module, m.region, m.account, strings.ToLower(kind), name),
		"id":  name,
	}
	switch token {
	case "aws:s3/bucketV2:BucketV2":
		out["arn"] = "arn:aws:s3:::" + name
		out["bucket"] = name
		out["bucketDomainName"] = name + ".s3.amazonaws.com"
		out["bucketRegionalDomainName"] = fmt.Sprintf("%s.s3.%s.amazonaws.com", name, m.region)
	case "aws:iam/role:Role", "aws:iam/policy:Policy", "aws:iam/group:Group", "aws:iam/instanceProfile:InstanceProfile":
		out["arn"] = fmt.Sprintf("arn:aws:iam::%s:%s/%s", m.account, map[string]string{"Role": "role", "Policy": "policy", "Group": "group", "InstanceProfile": "instance-profile"}[kind], name)
	case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
		url := strings.TrimPrefix(in["url"].StringValue(), "https://")
		out["arn"] = fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", m.account, url)
	case "aws:ec2/vpc:Vpc":
		out["id"] = "vpc-0" + hex(name)
		out["defaultSecurityGroupId"] = "sg-0" + hex(name+"default")
	case "aws:ec2/subnet:Subnet", "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "aws:ec2/natGateway:NatGateway", "aws:ec2/eip:Eip", "aws:ec2/routeTable:RouteTable", "aws:ec2/internetGateway:InternetGateway":
		out["id"] = map[string]string{"Subnet": "subnet-0", "SecurityGroup": "sg-0", "DefaultSecurityGroup": "sg-0", "NatGateway": "nat-0", "Eip": "eipalloc-0", "RouteTable": "rtb-0", "InternetGateway": "igw-0"}[kind] + hex(name)
	case "aws:lb/loadBalancer:LoadBalancer":
		out["dnsName"] = fmt.Sprintf("%s-1234567890.%s.elb.amazonaws.com", name, m.region)
		out["zoneId"] = "Z35SXDOTRQ7X7K"
		out["arnSuffix"] = "app/" + name + "/50dc6c495c0c9188"
		out["arn"] = fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:loadbalancer/app/%s/50dc6c495c0c9188", m.region, m.account, name)
	case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
		out["id"] = "sgr-0" + hex(name)
		out["arn"] = fmt.Sprintf("arn:aws:ec2:%s:%s:security-group-rule/%s", m.region, m.account, out["id"])
	case "aws:lb/listener:Listener":
		// AWS's form: the load balancer's ARN with listener/ for loadbalancer/, then an ID.
		out["arn"] = strings.Replace(in["loadBalancerArn"].StringValue(), ":loadbalancer/", ":listener/", 1) + "/" + hex(name)
	case "aws:lb/listenerRule:ListenerRule":
		out["arn"] = strings.Replace(in["listenerArn"].StringValue(), ":listener/", ":listener-rule/", 1) + "/" + hex(name)
	case "aws:lb/targetGroup:TargetGroup":
		out["arnSuffix"] = "targetgroup/" + name + "/943f017f100becff"
		out["arn"] = fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:targetgroup/%s/943f017f100becff", m.region, m.account, name)
	case "aws:rds/instance:Instance":
		host := fmt.Sprintf("%s.c0abcdefghij.%s.rds.amazonaws.com", name, m.region)
		out["address"], out["endpoint"], out["port"] = host, host+":5432", 5432
		out["arn"] = fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", m.region, m.account, name)
		out["resourceId"] = "db-" + strings.ToUpper(hex(name))
		if in["manageMasterUserPassword"].IsBool() && in["manageMasterUserPassword"].BoolValue() {
			out["masterUserSecrets"] = []any{map[string]any{"secretArn": fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:rds!db-%s-AbCdEf", m.region, m.account, hex(name)), "secretStatus": "active"}}
		}
	case "aws:sqs/queue:Queue":
		out["url"] = fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", m.region, m.account, name)
		out["arn"] = fmt.Sprintf("arn:aws:sqs:%s:%s:%s", m.region, m.account, name)
	case "aws:sns/topic:Topic":
		out["arn"] = fmt.Sprintf("arn:aws:sns:%s:%s:%s", m.region, m.account, name)
	case "aws:cloudfront/distribution:Distribution":
		out["id"] = "E" + strings.ToUpper(hex(name))[:13]
		out["domainName"] = "d" + hex(name)[:13] + ".cloudfront.net"
		out["hostedZoneId"] = "Z2FDTNDATAQYW2"
		out["arn"] = fmt.Sprintf("arn:aws:cloudfront::%s:distribution/%s", m.account, out["id"])
	case "aws:ecr/repository:Repository":
		out["repositoryUrl"] = fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s", m.account, m.region, name)
	case "aws:ec2/launchTemplate:LaunchTemplate":
		out["id"] = "lt-0" + hex(name)
		out["latestVersion"] = 1
	case "aws:kms/key:Key":
		out["keyId"] = uuid(name)
		out["id"] = out["keyId"]
		out["arn"] = fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", m.region, m.account, out["keyId"])
	case "aws:acm/certificate:Certificate":
		domain := in["domainName"].StringValue()
		out["arn"] = fmt.Sprintf("arn:aws:acm:%s:%s:certificate/%s", m.region, m.account, uuid(name))
		out["domainValidationOptions"] = []any{map[string]any{
			"domainName": domain, "resourceRecordName": "_3639ac514e785e898d2646601fa951d5." + domain + ".",
			"resourceRecordType": "CNAME", "resourceRecordValue": "_98d2646601fa951d5.acm-validations.aws.",
		}}
	case "aws:lambda/function:Function":
		out["arn"] = fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", m.region, m.account, name)
		out["invokeArn"] = fmt.Sprintf("arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations", m.region, out["arn"])
		out["qualifiedArn"] = out["arn"].(string) + ":1"
		out["version"] = "1"
	case "aws:cloudwatch/logDeliverySource:LogDeliverySource":
		out["arn"] = fmt.Sprintf("arn:aws:logs:%s:%s:delivery-source:%s", m.region, m.account, in["name"].StringValue())
	case "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination":
		out["arn"] = fmt.Sprintf("arn:aws:logs:%s:%s:delivery-destination:%s", m.region, m.account, in["name"].StringValue())
	case "aws:wafv2/ipSet:IpSet", "aws:wafv2/webAcl:WebAcl":
		scope := map[string]string{"CLOUDFRONT": "global", "REGIONAL": "regional"}[in["scope"].StringValue()]
		out["arn"] = fmt.Sprintf("arn:aws:wafv2:%s:%s:%s/%s/%s/%s", m.region, m.account, scope, strings.ToLower(kind), in["name"].StringValue(), uuid(name))
	case "aws:lambda/layerVersion:LayerVersion":
		out["arn"] = fmt.Sprintf("arn:aws:lambda:%s:%s:layer:%s:1", m.region, m.account, in["layerName"].StringValue())
	case "aws:cloudwatch/logGroup:LogGroup":
		out["arn"] = fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", m.region, m.account, name)
	case "aws:secretsmanager/secret:Secret":
		out["arn"] = fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-AbCdEf", m.region, m.account, name)
		out["id"] = out["arn"] // the provider's id of a secret is its ARN
	case "aws:secretsmanager/secretVersion:SecretVersion":
		// The version's arn is its secret's; its id is "<secret arn>|<version id>".
		out["arn"] = in["secretId"].StringValue()
		out["versionId"] = uuid(name)
		out["id"] = out["arn"].(string) + "|" + uuid(name)
	case "random:index/randomPassword:RandomPassword":
		// A value of the requested length, only letters: it is never a real password.
		out["result"] = strings.Repeat("offline"+hex(name), 4)[:int(in["length"].NumberValue())]
		out["id"] = "none"
		delete(out, "arn")
	case "aws:s3/bucketObjectv2:BucketObjectv2":
		out["versionId"] = "v" + hex(name+"/"+in["key"].StringValue())
	case "aws:accessanalyzer/analyzer:Analyzer":
		out["arn"] = fmt.Sprintf("arn:aws:access-analyzer:%s:%s:analyzer/%s", m.region, m.account, in["analyzerName"].StringValue())
	case "aws:sesv2/emailIdentity:EmailIdentity":
		// AWS adds the tokens to the DKIM settings the program gives.
		attrs := map[string]any{}
		if v, ok := in["dkimSigningAttributes"]; ok && v.IsObject() {
			attrs = v.ObjectValue().Mappable()
		}
		attrs["tokens"] = []any{"dkim1" + hex(name), "dkim2" + hex(name), "dkim3" + hex(name)}
		out["dkimSigningAttributes"] = attrs
	}
	return out
}

func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	m.mu.Lock()
	m.calls = append(m.calls, Call{Token: args.Token, Args: plainMap(args.Args)})
	m.mu.Unlock()
	var out map[string]any
	switch args.Token {
	case "aws:index/getCallerIdentity:getCallerIdentity":
		out = map[string]any{"accountId": m.account, "arn": "arn:aws:iam::" + m.account + ":user/offline", "userId": "AIDAOFFLINE", "id": m.account}
	case "aws:index/getRegion:getRegion":
		out = map[string]any{"name": m.region, "id": m.region, "region": m.region, "description": m.region}
	case "aws:index/getPartition:getPartition":
		out = map[string]any{"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws", "reverseDnsPrefix": "com.amazonaws"}
	case "aws:ec2/getManagedPrefixList:getManagedPrefixList":
		out = map[string]any{"id": "pl-3b927c52", "name": args.Args["name"].StringValue(), "maxEntries": 55, "addressFamily": "IPv4"}
	case "aws:route53/getZone:getZone":
		zone := args.Args["name"].StringValue()
		out = map[string]any{"zoneId": "Z0" + strings.ToUpper(hex(zone) + hex(zone+"#"))[:18], "id": "zone", "name": zone}
	case "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings":
		out = offerings(args.Args)
	case "aws:elb/getServiceAccount:getServiceAccount":
		out = map[string]any{"arn": "arn:aws:iam::127311923021:root", "id": "127311923021"}
	default:
		return nil, fmt.Errorf("offline: no answer for invoke %s; add one to offline/mocks.go", args.Token)
	}
	return resource.NewPropertyMapFromMap(out), nil
}

// hex gives a stable pseudo-identifier for a name.
func hex(s string) string {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return fmt.Sprintf("%016x", h)
}

func uuid(s string) string {
	a, b := hex(s), hex(s+"#")
	return fmt.Sprintf("%s-%s-%s-%s-%s", a[:8], a[8:12], a[12:16], b[:4], b[4:16])
}

// offerings answers DescribeInstanceTypeOfferings as an account whose every AZ offers every
// requested type: which zones lack a type differs per account and is only known online.
func offerings(args resource.PropertyMap) map[string]any {
	filter := map[string][]any{}
	for _, f := range args["filters"].ArrayValue() {
		var values []any
		for _, v := range f.ObjectValue()["values"].ArrayValue() {
			values = append(values, v.StringValue())
		}
		filter[f.ObjectValue()["name"].StringValue()] = values
	}
	var types, locations, kinds []any
	for _, t := range filter["instance-type"] {
		for _, z := range filter["location"] {
			types, locations, kinds = append(types, t), append(locations, z), append(kinds, "availability-zone")
		}
	}
	return map[string]any{"id": "offerings", "instanceTypes": types, "locations": locations, "locationTypes": kinds}
}
