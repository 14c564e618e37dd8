package platform

import (
	"fmt"

	"github.com/canalco/infra/compute"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func (p *platform) deployCompute() error {
	s := p.s
	buckets := map[string]string{}
	for purpose, b := range p.buckets.Documents {
		buckets[purpose] = b.Name
	}
	queueURL := func(thing string) string {
		return fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", p.env.Region, p.env.AccountID, p.env.Name(thing))
	}
	var err error
	p.compute, err = compute.NewCompute(p.ctx, p.env.Prefix, &compute.ComputeArgs{
		Env:                       p.env,
		Settings:                  s.Compute,
		Domain:                    s.Domain,
		VpcID:                     p.net.VpcID,
		PrivateSubnetIDs:          p.net.PrivateSubnetIDs,
		AlbSecurityGroupID:        p.net.AlbSecurityGroupID,
		BackendSecurityGroupID:    p.net.BackendSecurityGroupID,
		AlbPort:                   albPort(s),
		DatabaseSecretArn:         p.db.SecretArnUnfilled,
		DatabaseKeyArn:            p.db.KeyArn,
		DatabaseParameter:         p.db.AddressParameter,
		DatabaseReadParameter:     p.db.ReadParameter,
		DatabaseName:              p.db.DatabaseName,
		DatabaseResourceID:        p.db.ResourceID,
		DatabaseReplicaResourceID: p.db.ReplicaResourceID,
		AccessLogBucket:           p.buckets.Logs.Name,
		AccessLogsReady:           []pulumi.Resource{p.buckets.LogsPolicy},
		DocumentBuckets:           buckets,
		DocumentBucketArns:        p.buckets.DocumentArns(),
		StorageKeyArn:             p.buckets.KeyArn,
		// The serverless layer comes later (it trusts this layer's instance role), so the
		// backend finds its queues and topic by their fixed names.
		AppSettings: map[string]string{
			"AUDIT_QUEUE_URL":   queueURL("audit"),
			"REPORTS_QUEUE_URL": queueURL("reports"),
			"EVENTS_TOPIC_ARN":  fmt.Sprintf("arn:aws:sns:%s:%s:%s", p.env.Region, p.env.AccountID, p.env.Name("events")),
		},
	}, p.opts...)
	return err
}
