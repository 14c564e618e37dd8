package compute_test

import (
	"encoding/json"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/canalco/infra/compute"
	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	componentType   = "canalco:compute:Compute"
	albType         = "aws:lb/loadBalancer:LoadBalancer"
	targetGroupType = "aws:lb/targetGroup:TargetGroup"
	listenerType    = "aws:lb/listener:Listener"
	ruleType        = "aws:lb/listenerRule:ListenerRule"
	certType        = "aws:acm/certificate:Certificate"
	validationType  = "aws:acm/certificateValidation:CertificateValidation"
	recordType      = "aws:route53/record:Record"
	templateType    = "aws:ec2/launchTemplate:LaunchTemplate"
	groupType       = "aws:autoscaling/group:Group"
	policyType      = "aws:autoscaling/policy:Policy"
	repoType        = "aws:ecr/repository:Repository"
	lifecycleType   = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
	roleType        = "aws:iam/role:Role"
	rolePolicyType  = "aws:iam/rolePolicy:RolePolicy"
	attachmentType  = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
	profileType     = "aws:iam/instanceProfile:InstanceProfile"
	parameterType   = "aws:ssm/parameter:Parameter"
	logGroupType    = "aws:cloudwatch/logGroup:LogGroup"
	keyType         = "aws:kms/key:Key"
)

// profile is what each environment's stack file must produce.
type profile struct {
	instanceTypes []string
	min, max      float64
	port          float64
	protocol      string
	apiDomain     string
	protected     bool
}

var profiles = map[string]profile{
	"dev":     {instanceTypes: []string{"t4g.small", "t4g.medium"}, min: 1, max: 2, port: 80, protocol: "HTTP"},
	"staging": {instanceTypes: []string{"t4g.medium", "c6g.large"}, min: 2, max: 4, port: 443, protocol: "HTTPS", apiDomain: "api.staging.canalco.co", protected: true},
	"prod":    {instanceTypes: []string{"t4g.medium", "c6g.large"}, min: 2, max: 10, port: 443, protocol: "HTTPS", apiDomain: "api.canalco.co", protected: true},
}

// layer is one stack's compute layer as the tests read it.
type layer struct {
	res                                                        *offline.Result
	stack                                                      string
	alb, tg, listener, rule, lt, asg, repo, role, app, profile *offline.Resource
}

func name(stack, thing string) string { return "canalco-" + stack + "-" + thing }

func find(t *testing.T, res *offline.Result, typ, logical string) *offline.Resource {
	t.Helper()
	r := res.Named(typ, logical)
	require.NotNil(t, r, "%s %s is not registered", typ, logical)
	return r
}

func load(t *testing.T, stack string) *layer {
	t.Helper()
	res := offline.Stack(t, stack)
	l := &layer{res: res, stack: stack}
	l.alb = find(t, res, albType, name(stack, "alb"))
	l.tg = find(t, res, targetGroupType, name(stack, "tg"))
	listeners := res.OfType(listenerType)
	require.Len(t, listeners, 1, "one listener")
	l.listener = listeners[0]
	l.rule = find(t, res, ruleType, name(stack, "alb-backend"))
	l.lt = find(t, res, templateType, name(stack, "backend"))
	l.asg = find(t, res, groupType, name(stack, "backend"))
	l.repo = find(t, res, repoType, name(stack, "backend"))
	l.role = find(t, res, roleType, name(stack, "backend-instance"))
	l.app = find(t, res, roleType, name(stack, "app"))
	l.profile = find(t, res, profileType, name(stack, "backend-instance"))
	return l
}

func out(r *offline.Resource, key string) string {
	s, _ := r.Outputs[key].(string)
	return s
}

func eachStack(t *testing.T, test func(t *testing.T, l *layer, want profile)) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) { test(t, load(t, stack), profiles[stack]) })
	}
}

// ids returns the "id" outputs of the network's resources of a type named <prefix>-a, -b.
func ids(t *testing.T, res *offline.Result, typ, prefix string) []any {
	t.Helper()
	var out []any
	for _, az := range []string{"a", "b"} {
		out = append(out, find(t, res, typ, prefix+"-"+az).Outputs["id"])
	}
	return out
}

func TestEveryResourceBelongsToTheLayer(t *testing.T) {
	eachStack(t, func(t *testing.T, l *layer, _ profile) {
		components := l.res.OfType(componentType)
		require.Len(t, components, 1)
		assert.Equal(t, "canalco-"+l.stack, components[0].Name)
		for _, r := range []*offline.Resource{l.alb, l.tg, l.listener, l.rule, l.lt, l.asg, l.repo, l.role, l.profile} {
			assert.Equal(t, components[0].URN, r.Parent, "%s %s is a child of the compute component", r.Type, r.Name)
			assert.Contains(t, r.Provider, "pulumi:providers:aws::aws::", "%s uses the stack's provider (default tags)", r.Name)
		}
		assert.GreaterOrEqual(t, len(l.res.Children(components[0].URN)), 15)
	})
}

// Each AWS name the layer sets, with the limits AWS enforces on it.
func TestNamesFitAWSLimits(t *testing.T) {
	limits := []struct {
		typ, input string
		max        int
		pattern    *regexp.Regexp
	}{
		{albType, "name", 32, regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$`)},
		{templateType, "name", 128, regexp.MustCompile(`^[A-Za-z0-9().\-/_]{3,}$`)},
		{groupType, "name", 255, regexp.MustCompile(`^[^:]+$`)},
		{policyType, "name", 255, regexp.MustCompile(`^[^:]+$`)},
		{repoType, "name", 256, regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*$`)},
		{roleType, "name", 64, regexp.MustCompile(`^[\w+=,.@-]+$`)},
		{profileType, "name", 128, regexp.MustCompile(`^[\w+=,.@-]+$`)},
		{rolePolicyType, "name", 128, regexp.MustCompile(`^[\w+=,.@-]+$`)},
		{parameterType, "name", 1011, regexp.MustCompile(`^/[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+){0,14}$`)},
		{logGroupType, "name", 512, regexp.MustCompile(`^[.\-_/#A-Za-z0-9]+$`)},
	}
	for _, stack := range offline.Stacks {
		res := offline.Stack(t, stack)
		component := res.OfType(componentType)[0]
		t.Run(stack, func(t *testing.T) {
			for _, lim := range limits {
				var named int
				for _, r := range res.OfType(lim.typ) {
					if res.Ancestor(r, componentType) != component {
						continue
					}
					named++
					n := r.Str(lim.input)
					assert.LessOrEqual(t, len(n), lim.max, "%s %q is longer than AWS allows", lim.typ, n)
					assert.Regexp(t, lim.pattern, n, "%s name charset", lim.typ)
					assert.False(t, strings.HasPrefix(n, "internal-"), "ELB reserves the internal- prefix")
				}
				assert.Positive(t, named, "the layer names its %s", lim.typ)
			}
			// The longest stack name the settings allow still fits the 32-character ELB limit.
			assert.LessOrEqual(t, len(name("abcdefghij", "backend")), 32)
			assert.Equal(t, name(stack, "alb"), find(t, res, albType, name(stack, "alb")).Str("name"))
			// The target group is auto-named (compute/alb.go): Pulumi appends "-" and 7 random
			// characters to the logical name, within ELB's 32 (CreateTargetGroup, Name).
			tg := find(t, res, targetGroupType, name(stack, "tg"))
			assert.Nil(t, tg.Get("name"), "a fixed target group name collides on replacement")
			assert.LessOrEqual(t, len(name("abcdefghij", "tg"))+8, 32)
			assert.Equal(t, name(stack, "backend"), find(t, res, groupType, name(stack, "backend")).Str("name"), "the group name is plain: monitoring and the deploy script know it")
		})
	}
}

func TestLoadBalancer(t *testing.T) {
	eachStack(t, func(t *testing.T, l *layer, want profile) {
		a := l.alb
		assert.Equal(t, "application", a.Str("loadBalancerType"))
		assert.True(t, a.Bool("internal"), "internal: only CloudFront's VPC origin reaches it")
		assert.Equal(t, ids(t, l.res, "aws:ec2/subnet:Subnet", name(l.stack, "private")), a.List("subnets"), "private subnets of both AZs (ELB.13)")
		albSG := find(t, l.res, "aws:ec2/securityGroup:SecurityGroup", name(l.stack, "alb"))
		assert.Equal(t, []any{albSG.Outputs["id"]}, a.List("securityGroups"))
		assert.True(t, a.Bool("dropInvalidHeaderFields"), "ELB.4")
		assert.Contains(t, []string{"defensive", "strictest"}, a.Str("desyncMitigationMode"), "ELB.12")
		assert.True(t, a.Bool("accessLogs.enabled"), "ELB.5")
		assert.Equal(t, "alb", a.Str("accessLogs.prefix"))
		assert.Regexp(t, "^"+name(l.stack, "logs-"), a.Str("accessLogs.bucket"), "the stack's log bucket")
		assert.Equal(t, want.protected, a.Bool("enableDeletionProtection"), "ELB.6 in protected stacks")
		assert.Equal(t, 60.0, a.Num("idleTimeout"))
		assert.True(t, a.Bool("enableHttp2"))
		assert.False(t, a.Bool("enableWafFailOpen"))
		assert.Equal(t, "append", a.Str("xffHeaderProcessingMode"))
		assert.False(t, a.Bool("preserveHostHeader"))
		assert.Equal(t, "ipv4", a.Str("ipAddressType"))
	})
}

// AWS refuses access logs to a bucket whose policy does not let ELB write yet.
func TestLoadBalancerWaitsForTheLogBucketPolicy(t *testing.T) {
	eachStack(t, func(t *testing.T, l *layer, _ profile) {
		bucket := l.alb.Str("accessLogs.bucket")
		var policies int
		for _, p := range l.res.OfType("aws:s3/bucketPolicy:BucketPolicy") {
			if p.Str("bucket") == bucket {
				policies++
				assert.True(t, l.alb.DependsOn(p.URN), "the load balancer waits for %s", p.Name)
			}
		}
		assert.Positive(t, policies, "the log bucket has a policy")
	})
}

func TestTargetGroup(t *testing.T) {
	eachStack(t, func(t *testing.T, l *layer, _ profile) {
		g := l.tg
		assert.Equal(t, 8000.0, g.Num("port"))
		assert.Equal(t, "HTTP", g.Str("protocol"))
		assert.Equal(t, "instance", g.Str("targetType"))
		assert.Equal(t, find(t, l.res, "aws:ec2/vpc:Vpc", name(l.stack, "vpc")).Outputs["id"], g.Get("vpcId"))
		assert.Equal(t, 30.0, g.Num("deregistrationDelay"))
		assert.True(t, g.Bool("healthCheck.enabled"))
		assert.Equal(t, "/health", g.Str("healthCheck.path"))
		assert.Equal(t, 30.0, g.Num("healthCheck.interval"), "seed: health checks every 30 seconds")
		assert.Equal(t, 2.0, g.Num("healthCheck.healthyThreshold"))
		assert.Equal(t, 3.0, g.Num("healthCheck.unhealthyThreshold"))
		assert.Equal(t, 5.0, g.Num("healthCheck.timeout"))
		assert.Less(t, g.Num("healthCheck.timeout"), g.Num("healthCheck.interval"), "ELB requires timeout < interval")
		assert.Equal(t, "200-399", g.Str("healthCheck.matcher"))
		assert.Equal(t, "traffic-port", g.Str("healthCheck.port"))
	})
}

func TestListenerPerStack(t *testing.T) {
	eachStack(t, func(t *testing.T, l *layer, want profile) {
		li := l.listener
		assert.Equal(t, out(l.alb, "arn"), li.Str("loadBalancerArn"))
		assert.Equal(t, want.port, li.Num("port"))
		assert.Equal(t, want.protocol, li.Str("protocol"))
		// The default answer is a fixed 403: only the host rule forwards.
		require.Len(t, li.List("defaultActions"), 1)
		assert.Equal(t, "fixed-response", li.Str("defaultActions.0.type"))
		assert.Equal(t, "403", li.Str("defaultActions.0.fixedResponse.statusCode"))
		assert.Equal(t, out(li, "arn"), l.rule.Str("listenerArn"))
		assert.Equal(t, "forward", l.rule.Str("actions.0.type"))
		assert.Equal(t, out(l.tg, "arn"), l.rule.Str("actions.0.targetGroupArn"))
		hosts := l.rule.Strings("conditions.0.hostHeader.values")

		// The network layer opens exactly this port on the ALB's group.
		var ingress []*offline.Resource
		for _, r := range l.res.OfType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
			if strings.HasPrefix(r.Name, name(l.stack, "alb-in")) {
				ingress = append(ingress, r)
			}
		}
		require.Len(t, ingress, 1)
		assert.Equal(t, want.port, ingress[0].Num("fromPort"))
		assert.Equal(t, want.port, ingress[0].Num("toPort"))

		if want.protocol == "HTTP" {
			// Dev: no certificate, so HTTP on 80 that only CloudFront's addresses reach, and
			// only for the Host CloudFront sends: the ALB's own DNS name.
			assert.Empty(t, li.Str("certificateArn"))
			assert.Empty(t, li.Str("sslPolicy"))
			assert.NotEmpty(t, ingress[0].Str("prefixListId"), "only CloudFront's origin-facing prefix list")
			assert.Empty(t, ingress[0].Str("cidrIpv4"))
			assert.Equal(t, []string{out(l.alb, "dnsName")}, hosts)
			return
		}
		assert.Equal(t, "ELBSecurityPolicy-TLS13-1-2-Res-2021-06", li.Str("sslPolicy"), "ELB.17: a recommended policy")
		// CloudFront must be able to speak one of the listener's protocols to its origin.
		protocols := map[string][]string{
			"ELBSecurityPolicy-TLS13-1-3-2021-06":     {"TLSv1.3"},
			"ELBSecurityPolicy-TLS13-1-2-Res-2021-06": {"TLSv1.3", "TLSv1.2"},
		}[li.Str("sslPolicy")]
		vpcOrigin := l.res.OfType("aws:cloudfront/vpcOrigin:VpcOrigin")[0]
		var common []string
		for _, p := range vpcOrigin.List("vpcOriginEndpointConfig.originSslProtocols.items") {
			if slices.Contains(protocols, p.(string)) {
				common = append(common, p.(string))
			}
		}
		assert.NotEmpty(t, common, "CloudFront's origin protocols and the listener's policy share none: every API request would fail")
		validation := find(t, l.res, validationType, name(l.stack, "api"))
		assert.Equal(t, validation.Str("certificateArn"), li.Str("certificateArn"), "the listener waits for the validated certificate")
		assert.True(t, li.DependsOn(validation.URN))
		assert.Equal(t, []string{want.apiDomain}, hosts)
	})
}

func TestCertificateIsValidatedByDNS(t *testing.T) {
	eachStack(t, func(t *testing.T, l *layer, want profile) {
		var records []*offline.Resource
		for _, r := range l.res.OfType(recordType) {
			if l.res.Ancestor(r, componentType) != nil {
				records = append(records, r)
			}
		}
		if want.apiDomain == "" {
			assert.Empty(t, l.res.OfType(certType), "dev requests no certificate")
			assert.Empty(t, records, "dev writes no DNS records")
			return
		}
		cert := find(t, l.res, certType, name(l.stack, "api"))
		assert.Equal(t, want.apiDomain, cert.Str("domainName"))
		assert.Equal(t, "DNS", cert.Str("validationMethod"))
		assert.Equal(t, "RSA_2048", cert.Str("keyAlgorithm"), "ACM.2")
		assert.NotContains(t, cert.Provider, "aws-us-east-1", "a certificate in the stack's region: the ALB's")

		zone := "Z0" // the zone the mock returns for canalco.co starts so
		validationRecord := find(t, l.res, recordType, name(l.stack, "api-validation"))
		assert.True(t, strings.HasPrefix(validationRecord.Str("zoneId"), zone))
		assert.Equal(t, "CNAME", validationRecord.Str("type"))
		dvo := cert.Outputs["domainValidationOptions"].([]any)[0].(map[string]any)
		assert.Equal(t, dvo["resourceRecordName"], validationRecord.Str("name"))
		assert.Equal(t, []string{dvo["resourceRecordValue"].(string)}, validationRecord.Strings("records"))

		validation := find(t, l.res, validationType, name(l.stack, "api"))
		assert.Equal(t, out(cert, "arn"), validation.Str("certificateArn"))
		assert.True(t, validation.DependsOn(validationRecord.URN))

		alias := find(t, l.res, recordType, name(l.stack, "api-alias"))
		assert.Equal(t, want.apiDomain, alias.Str("name"))
		assert.Equal(t, "A", alias.Str("type"))
		assert.Equal(t, validationRecord.Str("zoneId"), alias.Str("zoneId"))
		assert.Equal(t, out(l.alb, "dnsName"), alias.Str("aliases.0.name"))
		assert.Equal(t, out(l.alb, "zoneId"), alias.Str("aliases.0.zoneId"))
		assert.Len(t, records, 2)
	})
}

// apiOrigin is the CloudFront distribution's origin for the API (the VPC origin).
func apiOrigin(t *testing.T, l *layer) map[string]any {
	t.Helper()
	dists := l.res.OfType("aws:cloudfront/distribution:Distribution")
	require.Len(t, dists, 1)
	for _, o := range dists[0].List("origins") {
		if m := o.(map[string]any); m["vpcOriginConfig"] != nil {
			return m
		}
	}
	require.Fail(t, "the distribution has no API origin")
	return nil
}

// CloudFront reaches the API where and how the compute layer says: through a VPC origin that
// points at this stack's internal load balancer.
func TestCloudFrontOrigin(t *testing.T) {
	eachStack(t, func(t *testing.T, l *layer, want profile) {
		origin := apiOrigin(t, l)
		vpcOrigins := l.res.OfType("aws:cloudfront/vpcOrigin:VpcOrigin")
		require.Len(t, vpcOrigins, 1)
		assert.Equal(t, out(vpcOrigins[0], "id"), origin["vpcOriginConfig"].(map[string]any)["vpcOriginId"])
		cfg := vpcOrigins[0].Get("vpcOriginEndpointConfig").(map[string]any)
		assert.Equal(t, out(l.alb, "arn"), cfg["arn"])
		assert.Equal(t, []any{"TLSv1.2"}, cfg["originSslProtocols"].(map[string]any)["items"], "CloudFront.10")
		// The host rule relies on CloudFront sending the origin's name as Host: every behavior
		// to the API forwards the viewer's headers except Host (AllViewerExceptHostHeader).
		var behaviors int
		for _, b := range l.res.OfType("aws:cloudfront/distribution:Distribution")[0].List("orderedCacheBehaviors") {
			if m := b.(map[string]any); m["targetOriginId"] == origin["originId"] {
				behaviors++
				assert.Equal(t, "b689b0a8-53d0-40ab-baf2-68738e2966ac", m["originRequestPolicyId"], "%s", m["pathPattern"])
			}
		}
		assert.Positive(t, behaviors, "a behavior routes to the API")
		if want.apiDomain == "" {
			assert.Equal(t, out(l.alb, "dnsName"), origin["domainName"])
			assert.Equal(t, "http-only", cfg["originProtocolPolicy"])
			assert.Equal(t, 80.0, cfg["httpPort"])
			return
		}
		assert.Equal(t, want.apiDomain, origin["domainName"])
		assert.Equal(t, "https-only", cfg["originProtocolPolicy"])
		assert.Equal(t, 443.0, cfg["httpsPort"])
	})
}

func TestLaunchTemplate(t *testing.T) {
	eachStack(t, func(t *testing.T, l *layer, want profile) {
		lt := l.lt
		// AWS's public parameter of the arm64 AMI: the Graviton types need it (an x86_64 AMI
		// does not boot on them).
		assert.Equal(t, "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64", lt.Str("imageId"))
		assert.Equal(t, want.instanceTypes[0], lt.Str("instanceType"))
		assert.Equal(t, out(l.profile, "arn"), lt.Str("iamInstanceProfile.arn"))
		assert.Equal(t, l.role.Str("name"), l.profile.Str("role"))

		require.Len(t, lt.List("blockDeviceMappings"), 1)
		assert.Equal(t, "/dev/xvda", lt.Str("blockDeviceMappings.0.deviceName"), "Amazon Linux 2023's root device")
		assert.Equal(t, "gp3", lt.Str("blockDeviceMappings.0.ebs.volumeType"))
		assert.Equal(t, "true", lt.Str("blockDeviceMappings.0.ebs.encrypted"), "EC2.3")
		assert.Equal(t, "true", lt.Str("blockDeviceMappings.0.ebs.deleteOnTermination"))
		assert.Equal(t, 30.0, lt.Num("blockDeviceMappings.0.ebs.volumeSize"))

		assert.True(t, lt.Bool("monitoring.enabled"), "detailed monitoring")
		require.Len(t, lt.List("networkInterfaces"), 1)
		assert.Equal(t, "false", lt.Str("networkInterfaces.0.associatePublicIpAddress"), "EC2.9, EC2.25, AutoScaling.5")
		backendSG := find(t, l.res, "aws:ec2/securityGroup:SecurityGroup", name(l.stack, "backend"))
		assert.Equal(t, []any{backendSG.Outputs["id"]}, lt.List("networkInterfaces.0.securityGroups"))
		assert.Nil(t, lt.Get("vpcSecurityGroupIds"), "groups go on the interface")

		assert.Equal(t, "required", lt.Str("metadataOptions.httpTokens"), "EC2.8, AutoScaling.3: IMDSv2")
		// "Configure the instance metadata options" (EC2 User Guide): with a hop limit of 1 the
		// IMDSv2 token's response does not reach a container on a bridge network, so the
		// backend's container cannot take the instance role's credentials.
		assert.Equal(t, 1.0, lt.Num("metadataOptions.httpPutResponseHopLimit"))
		assert.Equal(t, "enabled", lt.Str("metadataOptions.httpEndpoint"))
		assert.Equal(t, "enabled", lt.Str("metadataOptions.instanceMetadataTags"))
		assert.True(t, lt.Bool("updateDefaultVersion"))
		assert.Empty(t, lt.Str("keyName"), "no SSH key pair")
	})
}

// ASG launches get no default tags: the template and the group carry the provider's.
func TestInstancesVolumesAndInterfacesAreTagged(t *testing.T) {
	eachStack(t, func(t *testing.T, l *layer, _ profile) {
		providers := l.res.OfType("pulumi:providers:aws")
		var defaults map[string]any
		for _, p := range providers {
			if p.Name == "aws" {
				defaults = p.Inputs["defaultTags"].(map[string]any)["tags"].(map[string]any)
			}
		}
		require.NotEmpty(t, defaults)
		want := map[string]any{"Name": name(l.stack, "backend")}
		for k, v := range defaults {
			want[k] = v
		}
		var kinds []string
		for _, spec := range l.lt.List("tagSpecifications") {
			m := spec.(map[string]any)
			kinds = append(kinds, m["resourceType"].(string))
			assert.Equal(t, want, m["tags"], "%s tags", m["resourceType"])
		}
		sort.Strings(kinds)
		assert.Equal(t, []string{"instance", "network-interface", "volume"}, kinds)

		got := map[string]any{}
		for _, tag := range l.asg.List("tags") {
			m := tag.(map[string]any)
			assert.Equal(t, true, m["propagateAtLaunch"], "%s propagates at launch", m["key"])
			got[m["key"].(string)] = m["value"]
		}
		assert.Equal(t, want, got)
		// Instance tags in the metadata service allow only these characters in keys.
		for k := range want {
			assert.Regexp(t, `^[A-Za-z0-9+\-=._:]+$`, k)
		}
	})
}

func TestAutoScalingGroup(t *testing.T) {
	eachStack(t, func(t *testing.T, l *layer, want profile) {
		g := l.asg
		assert.Equal(t, ids(t, l.res, "aws:ec2/subnet:Subnet", name(l.stack, "private")), g.List("vpcZoneIdentifiers"), "AutoScaling.2: the private subnet of each AZ")
		assert.Equal(t, want.min, g.Num("minSize"))
		assert.Equal(t, want.max, g.Num("maxSize"))
		assert.Equal(t, want.min, g.Num("desiredCapacity"))
		assert.Contains(t, g.IgnoreChanges, "desiredCapacity", "pulumi up keeps the capacity autoscaling chose")
		assert.Equal(t, "ELB", g.Str("healthCheckType"), "AutoScaling.1")
		assert.Equal(t, 300.0, g.Num("healthCheckGracePeriod"))
		assert.Equal(t, []any{out(l.tg, "arn")}, g.List("targetGroupArns"))

		assert.Nil(t, g.Get("launchTemplate"), "the template is in the mixed instances policy")
		spec := "mixedInstancesPolicy.launchTemplate.launchTemplateSpecification."
		assert.Equal(t, out(l.lt, "id"), g.Str(spec+"launchTemplateId"), "AutoScaling.9")
		assert.Equal(t, "1", g.Str(spec+"version"), "pinned to the template's latestVersion")
		assert.NotContains(t, []string{"$Latest", "$Default", ""}, g.Str(spec+"version"))
		var types []string
		for _, o := range g.List("mixedInstancesPolicy.launchTemplate.overrides") {
			types = append(types, o.(map[string]any)["instanceType"].(string))
		}
		assert.Equal(t, want.instanceTypes, types, "AutoScaling.6: two Graviton types, one architecture")
		assert.Equal(t, 100.0, g.Num("mixedInstancesPolicy.instancesDistribution.onDemandPercentageAboveBaseCapacity"))
		assert.Equal(t, "prioritized", g.Str("mixedInstancesPolicy.instancesDistribution.onDemandAllocationStrategy"))

		assert.Equal(t, "Rolling", g.Str("instanceRefresh.strategy"))
		assert.Equal(t, 100.0, g.Num("instanceRefresh.preferences.minHealthyPercentage"), "no capacity is lost during a deploy")
		assert.Equal(t, 200.0, g.Num("instanceRefresh.preferences.maxHealthyPercentage"), "launch before terminate")
		assert.True(t, g.Bool("instanceRefresh.preferences.skipMatching"))
		assert.False(t, g.Bool("instanceRefresh.preferences.autoRollback"), "unsupported with an SSM-parameter AMI; the release script rolls back")
		assert.Equal(t, []string{"tag"}, g.Strings("instanceRefresh.triggers"))
		assert.Equal(t, 100.0, g.Num("instanceMaintenancePolicy.minHealthyPercentage"))
		assert.Equal(t, 200.0, g.Num("instanceMaintenancePolicy.maxHealthyPercentage"))
		assert.Equal(t, float64(30*24*3600), g.Num("maxInstanceLifetime"))

		assert.True(t, g.Bool("capacityRebalance"))
		assert.Equal(t, "1Minute", g.Str("metricsGranularity"))
		assert.Contains(t, g.Strings("enabledMetrics"), "GroupInServiceInstances")
		assert.Contains(t, g.Strings("enabledMetrics"), "GroupDesiredCapacity")
	})
}

// Seed: scale out above 80% CPU. The group tracks a lower average, below the 80% alarm.
func TestScalingPolicyKeepsTheGroupUnderTheAlarm(t *testing.T) {
	eachStack(t, func(t *testing.T, l *layer, _ profile) {
		p := find(t, l.res, policyType, name(l.stack, "backend-cpu"))
		assert.Equal(t, l.asg.Str("name"), p.Str("autoscalingGroupName"))
		assert.Equal(t, "TargetTrackingScaling", p.Str("policyType"))
		assert.Equal(t, "ASGAverageCPUUtilization", p.Str("targetTrackingConfiguration.predefinedMetricSpecification.predefinedMetricType"))
		assert.Equal(t, 60.0, p.Num("targetTrackingConfiguration.targetValue"))
		assert.Less(t, p.Num("targetTrackingConfiguration.targetValue"), 80.0)
		assert.False(t, p.Bool("targetTrackingConfiguration.disableScaleIn"), "scales back in when the load falls")
	})
}

func TestRepository(t *testing.T) {
	eachStack(t, func(t *testing.T, l *layer, want profile) {
		r := l.repo
		assert.Equal(t, name(l.stack, "backend"), r.Str("name"))
		assert.Equal(t, "IMMUTABLE", r.Str("imageTagMutability"), "ECR.2")
		assert.True(t, r.Bool("imageScanningConfiguration.scanOnPush"), "ECR.1")
		assert.Equal(t, "KMS", r.Str("encryptionConfigurations.0.encryptionType"))
		assert.Equal(t, !want.protected, r.Bool("forceDelete"))
		assert.Equal(t, want.protected, r.Protect && r.RetainOnDelete, "protected stacks keep their releases")

		lp := find(t, l.res, lifecycleType, name(l.stack, "backend"))
		assert.Equal(t, r.Str("name"), lp.Str("repository"))
		checkLifecycle(t, lp.Str("policy"), 30)
	})
}

func TestAppLogGroup(t *testing.T) {
	retention := map[string]float64{"dev": 30, "staging": 90, "prod": 365}
	eachStack(t, func(t *testing.T, l *layer, _ profile) {
		g := find(t, l.res, logGroupType, name(l.stack, "backend"))
		assert.Equal(t, name(l.stack, "backend"), g.Str("name"))
		assert.Equal(t, retention[l.stack], g.Num("retentionInDays"))
		assert.Equal(t, out(find(t, l.res, keyType, name(l.stack, "logs")), "arn"), g.Str("kmsKeyId"))
	})
}

func TestAgentConfiguration(t *testing.T) {
	eachStack(t, func(t *testing.T, l *layer, _ profile) {
		p := find(t, l.res, parameterType, name(l.stack, "cloudwatch-agent"))
		assert.Equal(t, "/canalco/"+l.stack+"/cloudwatch-agent", p.Str("name"))
		assert.Equal(t, "String", p.Str("type"))
		// Pulumi keeps every parameter value secret in state, whatever its type.
		secret, ok := p.Get("value").(offline.Secret)
		require.True(t, ok)
		value := secret.Value.(string)
		assert.LessOrEqual(t, len(value), 4096, "standard parameters hold 4 KB")
		var cfg struct {
			Metrics struct {
				Namespace             string
				AppendDimensions      map[string]string `json:"append_dimensions"`
				AggregationDimensions [][]string        `json:"aggregation_dimensions"`
				MetricsCollected      struct {
					Mem  struct{ Measurement []string }
					Disk struct {
						Measurement []string
						Resources   []string
						DropDevice  bool `json:"drop_device"`
					}
				} `json:"metrics_collected"`
			}
			Logs struct {
				LogsCollected struct {
					Files struct {
						CollectList []struct {
							FilePath     string `json:"file_path"`
							LogGroupName string `json:"log_group_name"`
						} `json:"collect_list"`
					}
				} `json:"logs_collected"`
			}
		}
		require.NoError(t, json.Unmarshal([]byte(value), &cfg))
		m := cfg.Metrics
		assert.Equal(t, "CWAgent", m.Namespace)
		assert.Equal(t, map[string]string{"AutoScalingGroupName": "${aws:AutoScalingGroupName}", "InstanceId": "${aws:InstanceId}"}, m.AppendDimensions)
		// The monitoring layer's alarms read these exact dimension sets.
		assert.Contains(t, m.AggregationDimensions, []string{"AutoScalingGroupName"}, "mem_used_percent per group")
		assert.Contains(t, m.AggregationDimensions, []string{"AutoScalingGroupName", "path", "fstype"}, "disk_used_percent per group and file system")
		assert.Equal(t, []string{"mem_used_percent"}, m.MetricsCollected.Mem.Measurement)
		assert.Equal(t, []string{"used_percent"}, m.MetricsCollected.Disk.Measurement, "published as disk_used_percent")
		assert.Equal(t, []string{"/"}, m.MetricsCollected.Disk.Resources)
		assert.True(t, m.MetricsCollected.Disk.DropDevice, "no device dimension")
		var paths []string
		for _, f := range cfg.Logs.LogsCollected.Files.CollectList {
			assert.Equal(t, name(l.stack, "backend"), f.LogGroupName)
			paths = append(paths, f.FilePath)
		}
		assert.Equal(t, []string{"/var/log/cloud-init-output.log", "/var/log/canalco/migrations.log"}, paths)
	})
}

// userData decodes a launch template's boot script.
func userData(t *testing.T, lt *offline.Resource) string {
	t.Helper()
	script, size, err := compute.DecodeUserData(lt.Str("userData"))
	require.NoError(t, err)
	assert.LessOrEqual(t, size, 16*1024, "EC2 takes at most 16 KB of user data")
	return script
}

func secretArn(t *testing.T, res *offline.Result, stack string) string {
	t.Helper()
	return find(t, res, "aws:secretsmanager/secret:Secret", name(stack, "postgres-master")).Outputs["arn"].(string)
}

func TestUserDataBootsTheBackend(t *testing.T) {
	eachStack(t, func(t *testing.T, l *layer, _ profile) {
		script := userData(t, l.lt)
		db := find(t, l.res, "aws:rds/instance:Instance", name(l.stack, "postgres"))
		endpoint := find(t, l.res, parameterType, name(l.stack, "database-endpoint"))
		assert.Equal(t, "/canalco/"+l.stack+"/database/endpoint", endpoint.Str("name"))
		assert.Equal(t, out(db, "address"), endpoint.Str("insecureValue"))
		assert.NotContains(t, script, out(db, "address"))
		for _, want := range []string{
			"#!/bin/bash\n",
			"set -euo pipefail",
			"dnf install -y docker amazon-cloudwatch-agent jq postgresql15",
			"readonly SECRET_ARN='" + secretArn(t, l.res, l.stack) + "'",
			`secret=$(aws secretsmanager get-secret-value --region "$REGION" --secret-id "$SECRET_ARN"`,
			"readonly AGENT_PARAMETER='/canalco/" + l.stack + "/cloudwatch-agent'",
			`-c "ssm:$AGENT_PARAMETER"`,
			"readonly REGISTRY='" + strings.Split(out(l.repo, "repositoryUrl"), "/")[0] + "'",
			"readonly REPOSITORY='" + out(l.repo, "repositoryUrl") + "'",
			"readonly RELEASE_PARAMETER='/canalco/" + l.stack + "/backend/release'",
			`release=$(retry 5 aws ssm get-parameter --region "$REGION" --name "$RELEASE_PARAMETER"`,
			"readonly LOG_GROUP='" + name(l.stack, "backend") + "'",
			"readonly PORT=8000",
			// The hosts are read at boot, once the database answers: nothing of the instance
			// is rendered into the template, so the group need not wait for the database.
			"readonly DATABASE_PARAMETER='" + endpoint.Str("name") + "'",
			"readonly DATABASE_PORT=5432",
			"readonly DATABASE_WAIT_MINUTES=40",
			`DATABASE_HOST=$(database_host "$DATABASE_PARAMETER")`,
			`printf 'DATABASE_HOST=%s\n' "$DATABASE_HOST"`,
			`printf 'DATABASE_PORT=%s\n' "$DATABASE_PORT"`,
			`--name "$DATABASE_PARAMETER" \` + "\n\t--query Parameter.Value --output text)",
			"printf 'DATABASE_NAME=%s\\n' 'canalco'",
			"printf 'DATABASE_USER=%s\\n' 'canalco_app'",
			"printf 'DATABASE_SSLMODE=%s\\n' verify-full",
			`printf 'DATABASE_SSL_ROOT_CERT=%s\n' "$CA_BUNDLE"`,
			"https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem",
			"printf 'ENVIRONMENT=%s\\n' \"$ENVIRONMENT\"",
			"readonly ENVIRONMENT='" + l.stack + "'",
			"umask 077",
			`chmod 600 "$ENV_FILE"`,
			`--restart always --publish "$PORT:$PORT"`,
			"--log-driver awslogs",
			`--log-opt awslogs-group="$LOG_GROUP"`,
			"cat >/usr/local/bin/canalco-run-migrations <<'MIGRATIONS'",
			"read -r -a MIGRATION <<<'python manage.py migrate --noinput'",
			`--entrypoint "${MIGRATION[0]}" "$IMAGE" "${MIGRATION[@]:1}"`,
			`GRANT rds_iam TO :"app_user";`,
			`retry 5 docker pull "$IMAGE"`,
			`--volume "$CA_BUNDLE:$CA_BUNDLE:ro"`,
			`--log-opt awslogs-stream="$INSTANCE_ID/backend"`,
		} {
			assert.Contains(t, script, want)
		}
		for _, purpose := range []string{"cotizaciones", "facturas", "adjuntos", "backups", "auditoria", "reportes"} {
			assert.Regexp(t, "printf '%s=%s\\\\n' 'BUCKET_"+strings.ToUpper(purpose)+"' '"+name(l.stack, purpose)+"-", script)
		}
		// The queues and the topic the backend writes to, as the serverless layer creates them.
		for variable, r := range map[string]*offline.Resource{
			"AUDIT_QUEUE_URL":   find(t, l.res, "aws:sqs/queue:Queue", name(l.stack, "audit")),
			"REPORTS_QUEUE_URL": find(t, l.res, "aws:sqs/queue:Queue", name(l.stack, "reports")),
			"EVENTS_TOPIC_ARN":  find(t, l.res, "aws:sns/topic:Topic", name(l.stack, "events")),
		} {
			value := out(r, "url")
			if value == "" {
				value = out(r, "arn")
			}
			assert.Contains(t, script, "printf '%s=%s\\n' '"+variable+"' '"+value+"'")
		}
		// Nothing release-specific is rendered: the release is read at boot.
		assert.NotContains(t, script, "readonly IMAGE='")
		assert.Contains(t, script, "python3 -m http.server $PORT")
		assert.Contains(t, script, `health_file="$PLACEHOLDER_ROOT/"'health'`, "answers 200 on /health")
		// No password reaches the backend's environment: it would go stale when RDS rotates it.
		envFile := script[strings.Index(script, `log "writing $ENV_FILE"`):strings.Index(script, `} >"$ENV_FILE"`)]
		assert.NotContains(t, envFile, "PASSWORD")
		assert.NotContains(t, envFile, "secret")
		assert.NotContains(t, script, "password=", "no credential is rendered into the template")
	})
}

// The rendered scripts are what instances run: shellcheck must find nothing in them.
func TestUserDataPassesShellcheck(t *testing.T) {
	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Skip("shellcheck is not installed (apt-get install -y shellcheck)")
	}
	scripts := map[string]string{}
	for _, stack := range offline.Stacks {
		scripts[stack] = userData(t, load(t, stack).lt)
	}
	for label, script := range scripts {
		t.Run(label, func(t *testing.T) {
			shellcheck(t, script)
			for _, mark := range []string{"MIGRATIONS", "CREDENTIALS"} {
				inner := embedded(t, script, mark)
				assert.True(t, strings.HasPrefix(inner, "#!/bin/bash\n"), mark)
				shellcheck(t, inner)
			}
		})
	}
}

func TestNoSSHAnywhere(t *testing.T) {
	eachStack(t, func(t *testing.T, l *layer, _ profile) {
		assert.Empty(t, l.res.OfType("aws:ec2/keyPair:KeyPair"))
		for _, typ := range []string{"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:ec2/securityGroupRule:SecurityGroupRule"} {
			for _, r := range l.res.OfType(typ) {
				from, to := r.Num("fromPort"), r.Num("toPort")
				assert.False(t, from <= 22 && 22 <= to, "%s opens port 22", r.Name)
			}
		}
		assert.NotContains(t, userData(t, l.lt), "sshd")
	})
}
