// Package cost estimates what a stack costs per month from the resources it registers, the
// dated price table (prices.go) and the usage the stack's settings assume (settings.Usage).
package cost

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/review/graph"
	"github.com/canalco/infra/settings"
)

// Traffic and storage assumptions beyond the usage settings, stated in every estimate.
const (
	s3PutsPerGB      = 1000  // uploads, copies and lists per GB stored per month
	s3GetsPerGB      = 10000 // downloads (presigned URLs, reports) per GB stored per month
	cdnRequestsPerGB = 20000 // about 50 KB per response
	lambdaSeconds    = 0.5   // average duration of an invocation
	sqsPerInvocation = 3     // send, receive and delete per message
	lcuPerALB        = 1     // a small API stays within one load balancer capacity unit
	ecrGBPerImage    = 0.15  // compressed backend image
	// The audit log (serverless/functions/README.md, "audit"): the audit function writes one
	// object per day per batch, and SQS hands it a batch at most every 10 s; the clean-up reads
	// them back once and writes the day's one gzip object, at about 100 bytes an event.
	auditBatchesPerDay = 86400 / 10
	auditBytesPerEvent = 100
	daysPerMonth       = 30
)

// Item is one line of the estimate.
type Item struct {
	Service  string // e.g. EC2, RDS
	Resource string // the logical name it is priced from, or a summary
	Detail   string // quantities and unit prices
	Monthly  float64
	// Extra says why a line goes beyond the seed's architecture (empty: within the seed's scope,
	// so comparable with its ~$300 estimate).
	Extra string
}

// Estimate is a stack's monthly cost.
type Estimate struct {
	Items []Item
	Total float64
	// SeedScope is the total of the seed's parts; Extras the total of the lines beyond it.
	SeedScope, Extras float64
	Goal              float64
	Env               settings.Environment
	Assumptions       []string
	// Cheapest is the lowest total that still meets the environment's requirements; set only
	// when Total misses the goal.
	Cheapest *Alternative
	// changes are the settings the knobs changed, when pricing an alternative.
	changes []string
}

// Met reports whether the estimate meets the goal: in dev everything strictly under it; in
// staging and prod the seed's scope at or under it (the goal is the seed's ~$300, which did not
// include what the platform adds beyond it: those lines are itemized as extras).
func (e *Estimate) Met() bool {
	if e.Env == settings.Dev {
		return e.Total < e.Goal
	}
	return e.SeedScope <= e.Goal
}

// Alternative is a cheaper configuration and its total.
type Alternative struct {
	Changes []string
	Total   float64
}

// knobs replace planned values to price another configuration: an instance type or class only
// where it is cheaper than the planned one; zero values keep the plan.
type knobs struct {
	instanceType string
	dbClass      string
	singleAZ     bool
	asgMin       int
	natCount     int
}

// Of prices the stack as planned and, when the goal is missed, its cheapest compliant form.
func Of(res *offline.Result, s *settings.Settings) *Estimate {
	x := graph.New(res)
	e := estimate(x, s, knobs{})
	if !e.Met() {
		alt := estimate(x, s, cheapest(s))
		changes := alt.changes
		if s.Protected() {
			changes = append(changes, "kept, as the seed requires: a NAT gateway per AZ, the Multi-AZ database, two instances minimum")
		}
		e.Cheapest = &Alternative{Changes: changes, Total: alt.Total}
	}
	return e
}

func estimate(x *graph.Index, s *settings.Settings, k knobs) *Estimate {
	e := &Estimate{Goal: float64(s.Monitoring.MonthlyBudgetUsd), Env: s.Environment}
	p := &pricer{x: x, s: s, k: k, e: e, noted: map[string]bool{}}
	for _, f := range []func(){p.compute, p.network, p.database, p.restoreTests, p.storage, p.auditLog, p.edge, p.serverless, p.observability, p.security} {
		f()
	}
	for i := range e.Items {
		e.Items[i].Monthly = round(e.Items[i].Monthly)
		e.Total += e.Items[i].Monthly
		if e.Items[i].Extra != "" {
			e.Extras += e.Items[i].Monthly
		}
	}
	e.Total, e.Extras = round(e.Total), round(e.Extras)
	e.SeedScope = round(e.Total - e.Extras)
	e.Assumptions = assumptions(s)
	return e
}

func round(v float64) float64 { return math.Round(v*100) / 100 }

// pricer adds the items of one estimate.
type pricer struct {
	x *graph.Index
	s *settings.Settings
	k knobs
	e *Estimate
	// noted keeps each change an alternative makes listed once.
	noted map[string]bool
}

func (p *pricer) note(change string) {
	if !p.noted[change] {
		p.noted[change] = true
		p.e.changes = append(p.e.changes, change)
	}
}

func (p *pricer) add(service, resource, detail string, monthly float64) {
	p.e.Items = append(p.e.Items, Item{Service: service, Resource: resource, Detail: detail, Monthly: monthly})
}

// extra adds a line beyond the seed's architecture, with the reason it is there.
func (p *pricer) extra(service, resource, detail, why string, monthly float64) {
	p.e.Items = append(p.e.Items, Item{Service: service, Resource: resource, Detail: detail, Monthly: monthly, Extra: why})
}

func monthly(hourly float64) float64 { return hourly * HoursPerMonth }

// compute prices the Auto Scaling groups at their minimum size, their root volumes, stand-alone
// instances and image storage.
func (p *pricer) compute() {
	for _, asg := range p.x.OfType("aws:autoscaling/group:Group") {
		n := int(asg.Num("minSize"))
		if p.k.asgMin > 0 && p.k.asgMin < n {
			p.note(fmt.Sprintf("canalco:asgMinSize %d (was %d)", p.k.asgMin, n))
			n = p.k.asgMin
		}
		// A mixed instances policy launches its first override first (prioritized on-demand).
		p.instances(asg.Name, p.x.LaunchTemplate(asg), asg.Str("mixedInstancesPolicy.launchTemplate.overrides.0.instanceType"), n, p.awakeHours(asg.Name, "aws:autoscaling/schedule:Schedule", "autoscalingGroupName"))
	}
	for _, i := range p.x.OfType("aws:ec2/instance:Instance") {
		p.instances(i.Name, i, "", 1, HoursPerMonth)
	}
	if repos := p.x.OfType("aws:ecr/repository:Repository"); len(repos) > 0 {
		gb := float64(p.s.Compute.KeepImages) * ecrGBPerImage * float64(len(repos))
		p.add("ECR", "images", fmt.Sprintf("%.1f GB (%d images × %.2f GB) × $%.2f", gb, p.s.Compute.KeepImages, ecrGBPerImage, ECRGBMonth), gb*ECRGBMonth)
	}
}

// instances prices n instances launched from spec (a launch template or an instance), of the
// type given or the one spec names.
func (p *pricer) instances(name string, spec *offline.Resource, typ string, n int, hours float64) {
	if spec == nil {
		p.add("EC2", name, "no launch template found: not priced", 0)
		return
	}
	if typ == "" {
		typ = spec.Str("instanceType")
	}
	if alt, ok := EC2[p.k.instanceType]; ok && alt.Hourly < EC2[typ].Hourly {
		p.note(fmt.Sprintf("canalco:instanceType %s (was %s)", p.k.instanceType, typ))
		typ = p.k.instanceType
	}
	it, ok := EC2[typ]
	if !ok {
		p.add("EC2", name, fmt.Sprintf("%d × %s: no price in the table", n, typ), 0)
	} else {
		p.add("EC2", name, fmt.Sprintf("%d × %s × %.0f h × $%.4f", n, typ, hours, it.Hourly), float64(n)*hours*it.Hourly)
	}
	gb := 0.0
	for i := range spec.List("blockDeviceMappings") {
		gb += spec.Num(fmt.Sprintf("blockDeviceMappings.%d.ebs.volumeSize", i))
	}
	if gb == 0 {
		gb = spec.Num("rootBlockDevice.volumeSize")
	}
	if gb > 0 {
		// Volumes are deleted with their instances: a sleeping group pays for them while awake.
		share := hours / HoursPerMonth
		p.add("EBS", name, fmt.Sprintf("%d × %.0f GB gp3 × $%.2f × %.0f%% of the month", n, gb, EBSGp3GBMonth, share*100), float64(n)*gb*EBSGp3GBMonth*share)
	}
	if len(p.x.OfType("aws:dlm/lifecyclePolicy:LifecyclePolicy", "aws:backup/plan:Plan")) > 0 && gb > 0 {
		p.add("EBS", name+" snapshots", fmt.Sprintf("≈ one full copy of %d × %.0f GB × $%.2f (incremental)", n, gb, EBSSnapshotGBMonth), float64(n)*gb*EBSSnapshotGBMonth)
	}
}

// awakeHours are the hours a month a resource runs: the office hours when a schedule of type
// kind names it in field (it sleeps outside them), else the whole month.
func (p *pricer) awakeHours(name, kind, field string) float64 {
	for _, sch := range p.x.OfType(kind) {
		if strings.Contains(fmt.Sprint(sch.Get(field)), name) {
			return p.s.Compute.Office.AwakeHoursPerMonth()
		}
	}
	return HoursPerMonth
}

// network prices NAT gateways (hours and data), public IPv4 addresses, load balancers and
// interface endpoints. Gateway endpoints are free.
func (p *pricer) network() {
	nats := p.x.OfType("aws:ec2/natGateway:NatGateway")
	if p.k.natCount > 0 && p.k.natCount < len(nats) {
		p.note("canalco:natPerAz false (one NAT gateway)")
		nats = nats[:p.k.natCount]
	}
	for _, nat := range nats {
		gb := float64(p.s.Usage.NatTransferGb) / float64(len(nats))
		p.add("VPC", nat.Name, fmt.Sprintf("NAT 730 h × $%.3f + %.0f GB × $%.3f", NATHour, gb, NATPerGB), monthly(NATHour)+gb*NATPerGB)
	}
	eips := p.x.OfType("aws:ec2/eip:Eip")
	if p.k.natCount > 0 && p.k.natCount < len(eips) {
		eips = eips[:p.k.natCount]
	}
	for _, eip := range eips {
		p.add("VPC", eip.Name+" address", fmt.Sprintf("public IPv4 730 h × $%.3f", PublicIPv4Hour), monthly(PublicIPv4Hour))
	}
	for _, lb := range p.x.OfType("aws:lb/loadBalancer:LoadBalancer") {
		if t := lb.Str("loadBalancerType"); t != "" && t != "application" {
			p.add("ELB", lb.Name, t+" load balancer: not priced", 0)
			continue
		}
		ips := 0
		if !lb.Bool("internal") {
			ips = len(graph.Strings(lb.Get("subnets"))) + len(lb.List("subnetMappings"))
		}
		p.add("ELB", lb.Name, fmt.Sprintf("ALB 730 h × $%.4f + %d LCU × $%.3f/h + %d public IPv4 × $%.3f/h", ALBHour, lcuPerALB, LCUHour, ips, PublicIPv4Hour),
			monthly(ALBHour)+lcuPerALB*monthly(LCUHour)+float64(ips)*monthly(PublicIPv4Hour))
	}
	for _, ep := range p.x.OfType("aws:ec2/vpcEndpoint:VpcEndpoint") {
		if ep.Str("vpcEndpointType") != "Interface" {
			p.add("VPC", ep.Name, "gateway endpoint: free", 0)
			continue
		}
		azs := len(graph.Strings(ep.Get("subnetIds")))
		p.add("VPC", ep.Name, fmt.Sprintf("interface endpoint %d AZ × 730 h × $%.2f", azs, InterfaceEndpointHour), float64(azs)*monthly(InterfaceEndpointHour))
	}
}

// database prices RDS instances: Multi-AZ doubles the instance and its storage.
func (p *pricer) database() {
	for _, db := range p.x.OfType("aws:rds/instance:Instance") {
		class, multi := db.Str("instanceClass"), db.Bool("multiAz")
		gb := db.Num("allocatedStorage")
		replica := db.Str("replicateSourceDb") != ""
		if src := p.x.Ref(db.Str("replicateSourceDb"), "aws:rds/instance:Instance"); gb == 0 && src != nil {
			gb = src.Num("allocatedStorage")
		}
		if alt, ok := RDSHourly[p.k.dbClass]; ok && alt < RDSHourly[class] {
			p.note(fmt.Sprintf("canalco:dbInstanceClass %s (was %s)", p.k.dbClass, class))
			class = p.k.dbClass
		}
		if p.k.singleAZ && multi {
			p.note("canalco:dbMultiAz false")
			multi = false
		}
		copies, az := 1.0, "single-AZ"
		storage := RDSGp3GBMonth
		if multi {
			copies, az, storage = 2, "Multi-AZ", RDSGp3MultiAZGBMonth
		}
		hourly, ok := RDSHourly[class]
		// A stopped database pays for its storage only (the scheduler's stop names it).
		hours := p.awakeHours(db.Str("identifier"), "aws:scheduler/schedule:Schedule", "target.input")
		detail := fmt.Sprintf("%s %s %.0f h × $%.3f × %.0f", class, az, hours, hourly, copies)
		if !ok {
			detail = class + ": no price in the table"
		}
		if replica {
			detail = "read replica " + detail
		}
		p.add("RDS", db.Name, detail, copies*hours*hourly)
		p.add("RDS", db.Name+" storage", fmt.Sprintf("%.0f GB gp3 × $%.3f (%s)", gb, storage, az), gb*storage)
	}
}

// storage prices S3 from the usage settings: the buckets share the stored gigabytes.
func (p *pricer) storage() {
	buckets := p.x.OfType("aws:s3/bucketV2:BucketV2")
	if len(buckets) == 0 {
		return
	}
	gb := float64(p.s.Usage.S3StorageGb)
	puts, gets := gb*s3PutsPerGB, gb*s3GetsPerGB
	p.add("S3", fmt.Sprintf("%d buckets", len(buckets)), fmt.Sprintf("%.0f GB × $%.3f + %.0fk PUT × $%.3f + %.0fk GET × $%.4f", gb, S3GBMonth, puts/1000, S3PutPer1000, gets/1000, S3GetPer1000),
		gb*S3GBMonth+puts/1000*S3PutPer1000+gets/1000*S3GetPer1000)
}

// auditLog prices the audit log's requests and a year of its day objects from
// usageAuditEventsPerDay: S3 and SQS requests, which the per-GB assumptions above do not see.
func (p *pricer) auditLog() {
	events := float64(p.s.Usage.AuditEventsPerDay)
	if events == 0 || len(p.x.OfType("aws:lambda/function:Function")) == 0 {
		return
	}
	puts := math.Min(events, auditBatchesPerDay) * daysPerMonth // the audit function's objects
	gets := puts                                                // the clean-up reads each once
	puts += daysPerMonth                                        // and writes one object a day
	yearGB := events * 365 * auditBytesPerEvent / 1e9
	p.add("S3", "audit log", fmt.Sprintf("%.0f events a day: %.0fk PUT × $%.3f + %.0fk GET × $%.4f + a year's %.2f GB × $%.3f",
		events, puts/1000, S3PutPer1000, gets/1000, S3GetPer1000, yearGB, S3GBMonth),
		puts/1000*S3PutPer1000+gets/1000*S3GetPer1000+yearGB*S3GBMonth)
}

// edge prices CloudFront (after its always-free tier), its functions and the web ACLs.
func (p *pricer) edge() {
	dists := p.x.OfType("aws:cloudfront/distribution:Distribution")
	gb := float64(p.s.Usage.CdnTransferGb)
	reqs := gb * cdnRequestsPerGB
	if len(dists) > 0 {
		paidGB, paidReqs := math.Max(0, gb-CloudFrontFreeGB), math.Max(0, reqs-CloudFrontFreeReqs)
		p.add("CloudFront", dists[0].Name, fmt.Sprintf("%.0f GB (1 TB free) + %.1fM requests (10M free): %.0f GB × $%.3f + %.1fM × $%.2f/10k",
			gb, reqs/1e6, paidGB, CloudFrontPerGB, paidReqs/1e6, CloudFrontPer10kHTTPS), paidGB*CloudFrontPerGB+paidReqs/10000*CloudFrontPer10kHTTPS)
		if fns := p.x.OfType("aws:cloudfront/function:Function"); len(fns) > 0 {
			paid := math.Max(0, reqs-CFFunctionsFree)
			p.add("CloudFront", fmt.Sprintf("%d functions", len(fns)), fmt.Sprintf("%.1fM invocations (2M free) × $%.2f/1M", reqs/1e6, CFFunctionsPer1M), paid/1e6*CFFunctionsPer1M)
		}
	}
	for _, acl := range p.x.OfType("aws:wafv2/webAcl:WebAcl") {
		rules := len(acl.List("rules"))
		p.extra("WAF", acl.Name, fmt.Sprintf("web ACL $%.0f + %d rules × $%.0f + %.1fM requests × $%.2f/1M", WAFACLMonth, rules, WAFRuleMonth, reqs/1e6, WAFPer1MReqs),
			"CloudFront.6: the seed has no web application firewall", WAFACLMonth+float64(rules)*WAFRuleMonth+reqs/1e6*WAFPer1MReqs)
	}
}

// serverless prices Lambda (after its free tier), SQS and SES from the usage settings.
func (p *pricer) serverless() {
	fns := p.x.OfType("aws:lambda/function:Function")
	reqs := float64(p.s.Usage.LambdaRequests)
	if len(fns) > 0 {
		gbs, priced := 0.0, 0.0 // GB-seconds, and their price before the free tier
		for _, f := range fns {
			mem := f.Num("memorySize")
			if mem == 0 {
				mem = 128
			}
			share := reqs / float64(len(fns)) * lambdaSeconds * mem / 1024
			gbs += share
			price := LambdaGBSecondX86
			if a := graph.Strings(f.Get("architectures")); len(a) > 0 && a[0] == "arm64" {
				price = LambdaGBSecondArm
			}
			priced += share * price
		}
		avgPrice := priced / math.Max(gbs, 1)
		paidGBs := math.Max(0, gbs-LambdaFreeGBSeconds)
		paidReqs := math.Max(0, reqs-LambdaFreeReqs)
		p.add("Lambda", fmt.Sprintf("%d functions", len(fns)), fmt.Sprintf("%.2fM requests (1M free), %.0fk GB-s (400k free)", reqs/1e6, gbs/1000),
			paidReqs/1e6*LambdaPer1MReqs+paidGBs*avgPrice)
	}
	if queues := p.x.OfType("aws:sqs/queue:Queue"); len(queues) > 0 {
		n := reqs * sqsPerInvocation
		p.add("SQS", fmt.Sprintf("%d queues", len(queues)), fmt.Sprintf("%.1fM requests (1M free) × $%.2f/1M", n/1e6, SQSPer1M), math.Max(0, n-SQSFreeReqs)/1e6*SQSPer1M)
	}
	if len(p.x.OfType("aws:sesv2/emailIdentity:EmailIdentity", "aws:sesv2/configurationSet:ConfigurationSet")) > 0 && p.s.Serverless.Transport == "ses" {
		p.add("SES", "email", fmt.Sprintf("%d emails × $%.2f/1000", p.s.Usage.Emails, SESPer1000), float64(p.s.Usage.Emails)/1000*SESPer1000)
	}
}

// observability prices alarms, dashboards and custom metrics beyond the free tier, and logs.
func (p *pricer) observability() {
	alarms := p.x.OfType("aws:cloudwatch/metricAlarm:MetricAlarm")
	composite := p.x.OfType("aws:cloudwatch/compositeAlarm:CompositeAlarm")
	if len(alarms)+len(composite) > 0 {
		paid := math.Max(0, float64(len(alarms)-FreeAlarms))
		p.add("CloudWatch", "alarms", fmt.Sprintf("%d alarms (10 free) × $%.2f + %d composite × $%.2f", len(alarms), AlarmMonth, len(composite), CompositeAlarmMonth),
			paid*AlarmMonth+float64(len(composite))*CompositeAlarmMonth)
	}
	if dash := p.x.OfType("aws:cloudwatch/dashboard:Dashboard"); len(dash) > 0 {
		p.add("CloudWatch", "dashboards", fmt.Sprintf("%d dashboards (3 free) × $%.0f", len(dash), DashboardMonth), math.Max(0, float64(len(dash)-FreeDashboards))*DashboardMonth)
	}
	if metrics := customMetrics(alarms); metrics > 0 {
		p.add("CloudWatch", "custom metrics", fmt.Sprintf("%d metrics alarmed outside AWS/ namespaces (10 free) × $%.2f", metrics, CustomMetricMonth), math.Max(0, float64(metrics-FreeMetrics))*CustomMetricMonth)
	}
	gb := float64(p.s.Usage.LogsIngestedGb)
	months := math.Min(float64(p.s.Network.LogRetentionDays), 365) / 30
	stored := gb * months
	p.add("CloudWatch", "logs", fmt.Sprintf("%.0f GB ingested (5 free) × $%.2f + %.0f GB stored (%d-day retention) × $%.2f", gb, LogsIngestPerGB, stored, p.s.Network.LogRetentionDays, LogsStoredGBMonth),
		math.Max(0, gb-LogsFreeGB)*LogsIngestPerGB+stored*LogsStoredGBMonth)
}

// customMetrics counts the distinct metrics alarms watch outside AWS's own namespaces (the
// CloudWatch agent's memory and disk metrics, business metrics).
func customMetrics(alarms []*offline.Resource) int {
	seen := map[string]bool{}
	for _, a := range alarms {
		ns := a.Str("namespace")
		if ns != "" && !strings.HasPrefix(ns, "AWS/") {
			seen[ns+"/"+a.Str("metricName")] = true
		}
	}
	return len(seen)
}

// security prices customer-managed keys and secrets, counting the secret RDS creates for its
// managed master password.
func (p *pricer) security() {
	if keys := p.x.OfType("aws:kms/key:Key"); len(keys) > 0 {
		p.extra("KMS", fmt.Sprintf("%d keys", len(keys)), fmt.Sprintf("%d × $%.2f", len(keys), KMSKeyMonth),
			"the seed's encryption at rest works with AWS-managed keys; customer-managed ones scope who may decrypt", float64(len(keys))*KMSKeyMonth)
	}
	secrets := len(p.x.OfType("aws:secretsmanager/secret:Secret"))
	if secrets > 0 {
		p.add("Secrets Manager", fmt.Sprintf("%d secrets", secrets), fmt.Sprintf("%d × $%.2f", secrets, SecretMonth), float64(secrets)*SecretMonth)
	}
}

// cheapest returns the lowest-cost settings the environment's requirements allow: the cheapest
// instance type of the backend's architecture and database class with 2 GiB of memory; dev may also drop the redundancy
// the seed requires elsewhere (NAT per AZ, Multi-AZ database, two instances).
func cheapest(s *settings.Settings) knobs {
	k := knobs{
		instanceType: cheapestOf(EC2, func(_ string, t InstanceType) bool { return t.Arch == s.Compute.Architecture && t.MemoryGiB >= 2 }, func(t InstanceType) float64 { return t.Hourly }),
		dbClass: cheapestOf(RDSHourly, func(name string, _ float64) bool {
			c, ok := settings.InstanceClasses[name]
			return ok && c.MemoryGiB >= 2
		}, func(h float64) float64 { return h }),
	}
	if !s.Protected() {
		k.singleAZ, k.asgMin, k.natCount = true, 1, 1
	}
	return k
}

// cheapestOf returns the key with the lowest price among those ok accepts (ties by name).
func cheapestOf[V any](table map[string]V, ok func(string, V) bool, price func(V) float64) string {
	names := make([]string, 0, len(table))
	for n := range table {
		names = append(names, n)
	}
	sort.Strings(names)
	best := ""
	for _, n := range names {
		if ok(n, table[n]) && (best == "" || price(table[n]) < price(table[best])) {
			best = n
		}
	}
	return best
}

// assumptions are printed with every estimate so a reader can check the figures.
func assumptions(s *settings.Settings) []string {
	u, o := s.Usage, s.Compute.Office
	running, awake := " and database", ""
	if o.Sleep && !s.Database.Sleeps(o) {
		running, awake = "", ", and so do the database and its read replica (RDS cannot stop an instance that has one)"
	}
	return []string{
		fmt.Sprintf("prices: %s, collected %s; a month is 730 hours", PricesSource, PricesDate),
		fmt.Sprintf("usage (canalco:usage*): %d GB in S3, %d GB through CloudFront, %d emails, %d Lambda requests, %d GB through NAT, %d GB of logs",
			u.S3StorageGb, u.CdnTransferGb, u.Emails, u.LambdaRequests, u.NatTransferGb, u.LogsIngestedGb),
		fmt.Sprintf("traffic: %d CloudFront requests per GB, %d PUT and %d GET per GB stored in S3, %.1f s per Lambda run, %d SQS requests per message, %d LCU per ALB",
			cdnRequestsPerGB, s3PutsPerGB, s3GetsPerGB, lambdaSeconds, sqsPerInvocation, lcuPerALB),
		"EC2 at the Auto Scaling group's minimum size; scaling out adds one instance's price per instance-month",
		fmt.Sprintf("a sleeping stack (canalco:sleepOutsideOfficeHours) runs its instances%s %.0f h a month (%d:00-%d:00 %s, %s); NAT, load balancer and storage bill all month%s",
			running, o.AwakeHoursPerMonth(), o.Start, o.End, o.Days, o.Timezone, awake),
		"CloudFront VPC origins: no charge of their own (CloudFront pricing page); the internal load balancer has no public IPv4 addresses",
		"free tiers counted: CloudFront 1 TB and 10M requests, Lambda 1M requests and 400k GB-s, SQS 1M requests, 10 alarms, 10 metrics, 3 dashboards, 5 GB of logs",
		"RDS backups: within the free allowance (100% of the database's storage); Performance Insights within its free 7 days",
		"not included: Route 53 hosted zone (not created by the program), data transfer out of NAT and between AZs, KMS and Secrets Manager API calls, taxes",
	}
}
