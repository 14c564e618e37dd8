package data_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/canalco/infra/data"
	"github.com/canalco/infra/env"
	"github.com/canalco/infra/logs"
	"github.com/canalco/infra/settings"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// outputMocks answers like AWS for the two resources whose outputs the layer passes on.
type outputMocks struct{}

const secretArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:canalco-prod-postgres-master-AbCdEf"

func (outputMocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	state := args.Inputs.Copy()
	switch args.TypeToken {
	case "aws:rds/instance:Instance":
		id := args.Inputs["identifier"].StringValue()
		host := id + ".c0abcdefghij.us-east-1.rds.amazonaws.com"
		for k, v := range map[string]any{
			"address": host, "endpoint": host + ":5432", "resourceId": "db-" + id,
			"arn": "arn:aws:rds:us-east-1:123456789012:db:" + id,
		} {
			state[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
		}
	case "aws:secretsmanager/secretVersion:SecretVersion":
		state["arn"] = resource.NewPropertyValue(secretArn)
	case "random:index/randomPassword:RandomPassword":
		state["result"] = resource.NewPropertyValue("generated")
	case "aws:kms/key:Key":
		state["arn"] = resource.NewPropertyValue("arn:aws:kms:us-east-1:123456789012:key/" + args.Name)
	}
	return args.Name + "-id", state, nil
}

func (outputMocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return nil, fmt.Errorf("unexpected invoke %s", args.Token)
}

// TestOutputs checks the contract other layers read: the secret is the program's, once its
// first version exists, the key is the data key, identifiers are known before deployment.
func TestOutputs(t *testing.T) {
	s := settings.Profile(settings.Prod, "us-east-1").Database
	var (
		db   *data.Database
		got  []any
		wait sync.WaitGroup
	)
	wait.Add(1)
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		var err error
		db, err = data.NewDatabase(ctx, "canalco-prod", &data.DatabaseArgs{
			Env: env.Env{Prefix: "canalco-prod", Environment: settings.Prod, Region: "us-east-1", AccountID: "123456789012", Protected: true,
				Logs: logs.Settings{RetentionDays: 365, KmsKeyArn: pulumi.String("arn:aws:kms:us-east-1:123456789012:key/logs")}},
			Settings:        s,
			SubnetGroupName: pulumi.String("canalco-prod-db"),
			SecurityGroupID: pulumi.String("sg-0123"),
		})
		if err != nil {
			return err
		}
		pulumi.All(db.SecretArn, db.KeyArn, db.Address, db.Port, db.ResourceID).ApplyT(func(all []any) error {
			got = all
			wait.Done()
			return nil
		})
		return nil
	}, pulumi.WithMocks("canalco", "prod", outputMocks{}))
	require.NoError(t, err)
	wait.Wait()
	assert.Equal(t, secretArn, got[0], "SecretArn is the master secret's, through its version")
	assert.Equal(t, "arn:aws:kms:us-east-1:123456789012:key/canalco-prod-data", got[1])
	assert.Equal(t, "canalco-prod-postgres.c0abcdefghij.us-east-1.rds.amazonaws.com", got[2])
	assert.Equal(t, 5432, got[3])
	assert.Equal(t, "db-canalco-prod-postgres", got[4])
	assert.Equal(t, "canalco-prod-postgres", db.InstanceID)
	assert.Equal(t, "db.t4g.medium", db.InstanceClass)
	assert.Equal(t, "canalco", db.DatabaseName)
}
