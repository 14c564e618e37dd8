package monitoring_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// retentions are the values CloudWatch Logs accepts.
var retentions = []float64{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// CloudWatch.16 and encryption at rest: every log group of every stack is kept for the
// environment's retention (prod at least a year) and encrypted with the stack's logs key.
func TestEveryLogGroupIsKeptAndEncrypted(t *testing.T) {
	for _, name := range offline.Stacks {
		st := load(t, name)
		logsKey := st.res.Named("aws:kms/key:Key", "canalco-"+name+"-logs")
		require.NotNil(t, logsKey)
		groups := st.res.OfType("aws:cloudwatch/logGroup:LogGroup")
		require.NotEmpty(t, groups)
		for _, g := range groups {
			days := g.Num("retentionInDays")
			assert.Contains(t, retentions, days, "%s: %s", name, g.Str("name"))
			assert.Equal(t, float64(st.s.Network.LogRetentionDays), days, "%s: %s", name, g.Str("name"))
			if name == "prod" {
				assert.GreaterOrEqual(t, days, 365.0, g.Str("name"))
			}
			assert.Equal(t, logsKey.Outputs["arn"], g.Str("kmsKeyId"), "%s: %s", name, g.Str("name"))
		}
	}
}

// What writes logs writes them to a group of the program, not to one AWS would create on the
// fly without retention or key: the functions, the database's exports, the CloudWatch agent.
func TestEveryLogWriterHasItsGroup(t *testing.T) {
	for _, name := range offline.Stacks {
		st := load(t, name)
		var groups []string
		for _, g := range st.res.OfType("aws:cloudwatch/logGroup:LogGroup") {
			groups = append(groups, g.Str("name"))
		}
		var writers []string
		for _, fn := range st.res.OfType("aws:lambda/function:Function") {
			group := fn.Str("loggingConfig.logGroup")
			if group == "" {
				group = "/aws/lambda/" + fn.Str("name")
			}
			writers = append(writers, group)
		}
		for _, db := range st.res.OfType("aws:rds/instance:Instance") {
			for _, export := range db.Strings("enabledCloudwatchLogsExports") {
				writers = append(writers, "/aws/rds/instance/"+db.Str("identifier")+"/"+export)
			}
		}
		for _, p := range st.res.OfType("aws:ssm/parameter:Parameter") {
			var agent struct {
				Logs struct {
					LogsCollected struct {
						Files struct {
							CollectList []struct {
								LogGroupName string `json:"log_group_name"`
							} `json:"collect_list"`
						} `json:"files"`
					} `json:"logs_collected"`
				} `json:"logs"`
			}
			if json.Unmarshal([]byte(plain(p.Inputs["value"])), &agent) == nil {
				for _, f := range agent.Logs.LogsCollected.Files.CollectList {
					writers = append(writers, f.LogGroupName)
				}
			}
		}
		require.NotEmpty(t, writers)
		for _, w := range writers {
			assert.True(t, slices.Contains(groups, w), "%s: %s writes to a log group the program does not create", name, w)
		}
	}
}
