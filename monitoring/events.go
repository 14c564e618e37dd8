package monitoring

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// rdsSubscriptions are the RDS events the alarm topic receives.
var rdsSubscriptions = []struct {
	what, sourceType string
	categories       []string
	// instances limits the subscription to the stack's database instances.
	instances bool
}{
	// RDS.20: failure, maintenance and configuration change, plus what a team acts on: a
	// failover, low storage, the instance stopping or coming back.
	{"rds", "db-instance", []string{"availability", "configuration change", "failover", "failure", "low storage", "maintenance", "notification", "recovery"}, true},
	// RDS.21: changes to parameter groups, all of the account's (a parameter change is rare
	// and a stack sharing the account wants to know too).
	{"rds-parameters", "db-parameter-group", []string{"configuration change"}, false},
}

// rdsEvents subscribes the alarm topic to the database's events.
func (b *builder) rdsEvents() error {
	ids := []string{b.a.DatabaseID}
	if b.a.ReplicaID != "" {
		ids = append(ids, b.a.ReplicaID)
	}
	for _, sub := range rdsSubscriptions {
		name := b.a.Env.Name(sub.what)
		args := &rds.EventSubscriptionArgs{
			Name:            pulumi.String(name),
			SnsTopic:        b.main.arn,
			SourceType:      pulumi.String(sub.sourceType),
			EventCategories: pulumi.ToStringArray(sub.categories),
			Enabled:         pulumi.Bool(true),
		}
		if sub.instances {
			args.SourceIds = pulumi.ToStringArray(ids)
		}
		if _, err := rds.NewEventSubscription(b.ctx, name, args, b.main.opts...); err != nil {
			return err
		}
	}
	return nil
}
