package settings_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the users' time zone must resolve on any machine

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/settings"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stackConfig loads a real stack's configuration with some values changed.
func stackConfig(t *testing.T, stack string, values map[string]string) *offline.Config {
	t.Helper()
	return offline.StackConfig(t, stack, values)
}

func parse(t *testing.T, cfg *offline.Config) (*settings.Settings, error) {
	t.Helper()
	return settings.Parse(settings.Input{Project: cfg.Project, Stack: cfg.Stack, Values: cfg.Values})
}

func TestDatabaseProfiles(t *testing.T) {
	for _, c := range []struct {
		env               settings.Environment
		class             string
		multiAz, applyNow bool
		allocated, max    int
		retention         int
	}{
		{settings.Dev, "db.t4g.micro", false, true, 20, 100, 7},
		{settings.Staging, "db.t4g.medium", true, false, 50, 500, 30},
		{settings.Prod, "db.t4g.medium", true, false, 50, 500, 30},
	} {
		t.Run(string(c.env), func(t *testing.T) {
			d := settings.Profile(c.env, "us-east-1").Database
			assert.Equal(t, "17", d.EngineMajor)
			assert.Equal(t, c.class, d.InstanceClass)
			assert.Equal(t, c.multiAz, d.MultiAz)
			assert.Equal(t, c.applyNow, d.ApplyImmediately)
			assert.Equal(t, c.allocated, d.AllocatedGb)
			assert.Equal(t, c.max, d.MaxAllocatedGb)
			assert.Equal(t, c.retention, d.BackupRetention)
			assert.False(t, d.ReadReplica, "the replica is opt-in")
			assert.False(t, d.AllowMajorUpgrade, "a major upgrade is opt-in")
			assert.Empty(t, d.BackupReplicationRegion, "the cross-region copy is opt-in")
			assert.NotEqual(t, "postgres", d.Username)
		})
	}
}

// A read replica is accepted in every stack, dev's sleeping one included: there the backend
// still sleeps and the database stays up, since RDS can stop neither an instance that has a
// read replica nor the replica (RDS User Guide, "Stopping an Amazon RDS DB instance temporarily").
func TestReadReplicaKeepsTheDatabaseAwake(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			s, err := parse(t, stackConfig(t, stack, map[string]string{"canalco:dbReadReplica": "true"}))
			require.NoError(t, err)
			assert.True(t, s.Database.ReadReplica)
			assert.Equal(t, stack == "dev", s.Compute.Office.Sleep, "the backend sleeps as before")
			assert.False(t, s.Database.Sleeps(s.Compute.Office))

			plain, err := parse(t, stackConfig(t, stack, nil))
			require.NoError(t, err)
			assert.Equal(t, stack == "dev", plain.Database.Sleeps(plain.Compute.Office), "without a replica the database sleeps with the stack")
		})
	}
}

// TestDatabaseWindowsFallInTheUsersNight reads each stack's windows in its users' time zone.
func TestDatabaseWindowsFallInTheUsersNight(t *testing.T) {
	clock := func(t *testing.T, loc *time.Location, day time.Weekday, hhmm string) time.Time {
		t.Helper()
		at, err := time.Parse("15:04", hhmm)
		require.NoError(t, err)
		// 2026-03-01 is a Sunday; the weekday picks the day of that week, in UTC.
		return time.Date(2026, 3, 1+int(day), at.Hour(), at.Minute(), 0, 0, time.UTC).In(loc)
	}
	night := func(t *testing.T, at time.Time) {
		t.Helper()
		assert.Less(t, at.Hour(), 6, "%s is not in the users' night", at.Format("Mon 15:04 MST"))
	}
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			s, err := parse(t, stackConfig(t, stack, nil))
			require.NoError(t, err)
			loc, err := time.LoadLocation(s.Timezone)
			require.NoError(t, err)
			backup := strings.Split(s.Database.BackupWindow, "-")
			for _, hhmm := range backup {
				if o := s.Compute.Office; o.Sleep {
					// A stopped database gets no backup: a sleeping stack's is in office hours.
					at := clock(t, loc, time.Monday, hhmm)
					assert.True(t, at.Hour() >= o.Start && at.Hour() < o.End, "%s is not in office hours", at.Format("Mon 15:04 MST"))
					continue
				}
				night(t, clock(t, loc, time.Monday, hhmm))
			}
			maintenance := strings.Split(s.Database.MaintenanceWindow, "-")
			for _, w := range maintenance {
				day, hhmm, _ := strings.Cut(w, ":")
				require.Equal(t, "sun", day)
				night(t, clock(t, loc, time.Sunday, hhmm))
			}
		})
	}
}

// TestDatabaseBadSettings proves each bad value is reported with its key and what is
// expected, before any resource is registered.
func TestDatabaseBadSettings(t *testing.T) {
	for _, c := range []struct {
		name, stack string
		values      map[string]string
		key, expect string
	}{
		{"unknown class", "prod", map[string]string{"canalco:dbInstanceClass": "db.t4g.nano"}, "dbInstanceClass", "db.t4g.medium"},
		{"class typo", "dev", map[string]string{"canalco:dbInstanceClass": "t4g.micro"}, "dbInstanceClass", "one of"},
		{"retention 36", "prod", map[string]string{"canalco:dbBackupRetentionDays": "36"}, "dbBackupRetentionDays", "1 to 35"},
		{"retention negative", "dev", map[string]string{"canalco:dbBackupRetentionDays": "-1"}, "dbBackupRetentionDays", "1 to 35"},
		{"prod retention under 30", "prod", map[string]string{"canalco:dbBackupRetentionDays": "7"}, "dbBackupRetentionDays", "at least 30"},
		{"staging retention under 7", "staging", map[string]string{"canalco:dbBackupRetentionDays": "3"}, "dbBackupRetentionDays", "at least 7 outside dev"},
		{"windows overlap", "prod", map[string]string{"canalco:dbBackupWindow": "08:00-09:00"}, "dbMaintenanceWindow", "does not overlap"},
		{"windows overlap across midnight", "staging", map[string]string{"canalco:dbBackupWindow": "23:30-00:30", "canalco:dbMaintenanceWindow": "mon:00:00-mon:01:00"}, "dbMaintenanceWindow", "does not overlap"},
		{"backup window too short", "prod", map[string]string{"canalco:dbBackupWindow": "07:00-07:15"}, "dbBackupWindow", "at least 30 minutes"},
		{"maintenance window malformed", "prod", map[string]string{"canalco:dbMaintenanceWindow": "Sunday 3am"}, "dbMaintenanceWindow", "ddd:hh:mm-ddd:hh:mm"},
		{"replica class unknown", "prod", map[string]string{"canalco:dbReadReplica": "true", "canalco:dbReplicaInstanceClass": "db.t4g.nano"}, "dbReplicaInstanceClass", "one of the classes"},
		{"single-AZ prod", "prod", map[string]string{"canalco:dbMultiAz": "false"}, "dbMultiAz", "true outside dev"},
		{"unsupported major", "prod", map[string]string{"canalco:dbEngineVersion": "13"}, "dbEngineVersion", "standard support"},
		{"minor pinned", "prod", map[string]string{"canalco:dbEngineVersion": "17.2"}, "dbEngineVersion", "major version"},
		{"postgres as master user", "prod", map[string]string{"canalco:dbUsername": "postgres"}, "dbUsername", "not postgres"},
		{"backup copy in the same region", "prod", map[string]string{"canalco:dbBackupReplicationRegion": "us-east-1"}, "dbBackupReplicationRegion", "other than us-east-1"},
		{"storage ceiling below the start", "prod", map[string]string{"canalco:dbMaxAllocatedStorageGb": "40"}, "dbMaxAllocatedStorageGb", "at least 10% more than dbAllocatedStorageGb"},
		// RDS User Guide, "Managing capacity automatically with Amazon RDS storage autoscaling".
		{"storage ceiling under 10% above the start", "prod", map[string]string{"canalco:dbMaxAllocatedStorageGb": "54"}, "dbMaxAllocatedStorageGb", "(50, so 55)"},
		{"apply immediately not a boolean", "prod", map[string]string{"canalco:dbApplyImmediately": "yes"}, "dbApplyImmediately", "true or false"},
		{"slow query threshold 0 ms is the default, 5 is too low", "prod", map[string]string{"canalco:dbSlowQueryMs": "5"}, "dbSlowQueryMs", "10 to 60000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := stackConfig(t, c.stack, c.values)
			res, err := offline.RunConfig(cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "canalco:"+c.key+" = ")
			assert.Contains(t, err.Error(), c.expect)
			assert.Empty(t, res.Resources, "nothing may be registered when a setting is bad")
		})
	}
}

// TestDatabaseStackNameMakesAValidIdentifier: the stack name is part of the RDS identifier,
// whose rules are stricter than the stack name's.
func TestDatabaseStackNameMakesAValidIdentifier(t *testing.T) {
	for _, stack := range []string{"dev-", "qa--1"} {
		t.Run(stack, func(t *testing.T) {
			cfg := stackConfig(t, "dev", map[string]string{"canalco:environment": "dev"})
			cfg.Stack = stack
			res, err := offline.RunConfig(cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), fmt.Sprintf("stack name %q gives the RDS identifier", stack))
			assert.Empty(t, res.Resources)
		})
	}
}

func TestDatabaseAcceptedSettings(t *testing.T) {
	for _, c := range []struct {
		name, stack string
		values      map[string]string
		check       func(t *testing.T, d settings.Database)
	}{
		{"retention 0 is the profile's, never no backups", "prod", map[string]string{"canalco:dbBackupRetentionDays": "0"},
			func(t *testing.T, d settings.Database) { assert.Equal(t, 30, d.BackupRetention) }},
		{"windows across midnight that do not overlap", "prod", map[string]string{"canalco:dbBackupWindow": "23:30-00:30", "canalco:dbMaintenanceWindow": "sun:01:00-sun:02:00"},
			func(t *testing.T, d settings.Database) { assert.Equal(t, "23:30-00:30", d.BackupWindow) }},
		{"a planned change applied at once in prod", "prod", map[string]string{"canalco:dbApplyImmediately": "true", "canalco:dbAllowMajorUpgrade": "true"},
			func(t *testing.T, d settings.Database) { assert.True(t, d.ApplyImmediately && d.AllowMajorUpgrade) }},
		{"backup copy to another region", "prod", map[string]string{"canalco:dbBackupReplicationRegion": "us-west-2"},
			func(t *testing.T, d settings.Database) { assert.Equal(t, "us-west-2", d.BackupReplicationRegion) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := parse(t, stackConfig(t, c.stack, c.values))
			require.NoError(t, err)
			c.check(t, s.Database)
		})
	}
}

// RDS takes no automated backup of a stopped instance ("Backup window", RDS user guide: a
// stopped DB instance is not backed up): a stack that sleeps backs up while it is awake.
func TestASleepingStackBacksUpDuringOfficeHours(t *testing.T) {
	s, err := parse(t, stackConfig(t, "dev", nil))
	require.NoError(t, err)
	assert.Equal(t, "17:00-17:30", s.Database.BackupWindow, "12:00 in Bogotá")
	for _, c := range []struct {
		values map[string]string
		ok     bool
	}{
		{map[string]string{"canalco:dbBackupWindow": "07:00-08:00"}, false},                                            // 02:00 in Bogotá
		{map[string]string{"canalco:dbBackupWindow": "23:30-00:30"}, false},                                            // 18:30-19:30: past 19:00
		{map[string]string{"canalco:dbBackupWindow": "07:00-08:00", "canalco:sleepOutsideOfficeHours": "false"}, true}, // dev awake all night
		{map[string]string{"canalco:dbBackupWindow": "13:00-13:30"}, true},                                             // 08:00 in Bogotá
	} {
		_, err := parse(t, stackConfig(t, "dev", c.values))
		if c.ok {
			assert.NoError(t, err, "%v", c.values)
		} else if assert.Error(t, err, "%v", c.values) {
			assert.Contains(t, err.Error(), "dbBackupWindow")
			assert.Contains(t, err.Error(), "inside office hours")
		}
	}
}
