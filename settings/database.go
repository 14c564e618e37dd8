package settings

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Database is the PostgreSQL instance.
type Database struct {
	// EngineMajor pins only the major version, so RDS's automatic minor upgrades cause no drift.
	EngineMajor       string
	InstanceClass     string
	MultiAz           bool
	AllocatedGb       int
	MaxAllocatedGb    int
	BackupRetention   int
	BackupWindow      string // UTC, hh:mm-hh:mm
	MaintenanceWindow string // UTC, ddd:hh:mm-ddd:hh:mm
	Name              string
	Username          string
	// ReadReplica adds a read replica for reports and heavy reads; ReplicaClass is its class.
	ReadReplica  bool
	ReplicaClass string
	// BlueGreen makes changes RDS cannot apply in place without downtime (a major version)
	// go through an RDS Blue/Green deployment during `pulumi up`.
	BlueGreen bool
	// AllowMajorUpgrade lets a change of EngineMajor upgrade the running instance.
	AllowMajorUpgrade bool
	// ApplyImmediately applies changes now instead of in the maintenance window.
	ApplyImmediately bool
	// BackupReplicationRegion copies automated backups to another region; empty turns it off.
	BackupReplicationRegion string
	SlowQueryMs             int
}

// InstanceClass is what the platform needs to know about an RDS instance class.
type InstanceClass struct {
	VCPU      int
	MemoryGiB float64
}

// MaxConnections is RDS PostgreSQL's default max_connections for the class:
// LEAST(DBInstanceClassMemory/9531392, 5000).
func (c InstanceClass) MaxConnections() int {
	return min(int(c.MemoryGiB*1024*1024*1024/9531392), 5000)
}

// InstanceClasses are the RDS PostgreSQL classes the platform accepts.
var InstanceClasses = map[string]InstanceClass{
	"db.t3.micro": {2, 1}, "db.t3.small": {2, 2}, "db.t3.medium": {2, 4}, "db.t3.large": {2, 8},
	"db.t4g.micro": {2, 1}, "db.t4g.small": {2, 2}, "db.t4g.medium": {2, 4}, "db.t4g.large": {2, 8},
	"db.m7g.large": {2, 8}, "db.m7g.xlarge": {4, 16}, "db.r7g.large": {2, 16}, "db.r7g.xlarge": {4, 32},
}

// supportedMajors are the PostgreSQL majors in RDS standard support.
var supportedMajors = []string{"14", "15", "16", "17"}

var (
	windowPattern      = regexp.MustCompile(`^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$`)
	maintenancePattern = regexp.MustCompile(`^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$`)
	identifierPattern  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	// rdsIdentifierPattern is RDS's rule for instance identifiers (length checked apart).
	rdsIdentifierPattern = regexp.MustCompile(`^[a-z](-?[a-z0-9])*$`)
)

// Sleeps tells whether the database stops outside the office hours of a sleeping stack: not
// when it has a read replica, since RDS can stop neither an instance that has one nor the
// replica (RDS User Guide, "Stopping an Amazon RDS DB instance temporarily"). Both then run all
// month while the backend still sleeps.
func (d Database) Sleeps(o OfficeHours) bool { return o.Sleep && !d.ReadReplica }

// The things the data layer names: the instance is <prefix>-postgres, its replica
// <prefix>-postgres-replica, the longest identifier the stack name must fit.
const (
	InstanceThing = "postgres"
	ReplicaThing  = "postgres-replica"
)

var databaseSection = section{
	keys: []Key{
		str("dbEngineVersion", "PostgreSQL major version (14 to 17). Changing it is a major upgrade: see docs/database.md.", func(s *Settings) *string { return &s.Database.EngineMajor }),
		str("dbInstanceClass", "RDS instance class. Empty: db.t4g.micro dev, db.t4g.medium staging and prod.", func(s *Settings) *string { return &s.Database.InstanceClass }),
		tristate("dbMultiAz", "true: a standby in a second AZ. Empty: false in dev, true elsewhere.", func(s *Settings) *bool { return &s.Database.MultiAz }),
		integer("dbAllocatedStorageGb", "Initial gp3 storage in GB (20 to 65536). 0: 20 dev, 50 staging and prod.", func(s *Settings) *int { return &s.Database.AllocatedGb }),
		integer("dbMaxAllocatedStorageGb", "Storage autoscaling ceiling in GB. 0: 100 dev, 500 staging and prod.", func(s *Settings) *int { return &s.Database.MaxAllocatedGb }),
		integer("dbBackupRetentionDays", "Automated backup retention, 1 to 35 days (at least 7 outside dev, 30 in prod). 0: 7 dev, 30 staging and prod.", func(s *Settings) *int { return &s.Database.BackupRetention }),
		str("dbBackupWindow", "Daily backup window in UTC (hh:mm-hh:mm), inside office hours in a stack that sleeps. Empty: 07:00-08:00 (02:00 in Colombia); 17:00-17:30 in dev (12:00 in Colombia, while dev is awake).", func(s *Settings) *string { return &s.Database.BackupWindow }),
		str("dbMaintenanceWindow", "Weekly maintenance window in UTC (ddd:hh:mm-ddd:hh:mm). Empty: sun:08:30-sun:09:30, Sunday 03:30 in Colombia.", func(s *Settings) *string { return &s.Database.MaintenanceWindow }),
		str("dbName", "Name of the application database. Set it before the first pulumi up: a change replaces the database (a new, empty instance).", func(s *Settings) *string { return &s.Database.Name }),
		str("dbUsername", "Master user name (never postgres); its password is generated once and rotated every 30 days in the stack's secret <prefix>-postgres-master. Set it before the first pulumi up: a change replaces the database (a new, empty instance).", func(s *Settings) *string { return &s.Database.Username }),
		boolean("dbReadReplica", "true: a read replica for reports and heavy reads, its host in DATABASE_READ_HOST and /canalco/<stack>/database/read-endpoint. On a sleeping stack the database and the replica stay up all month (RDS cannot stop them). Off by default; in prod turn it on when report queries load the primary (db-cpu alarm, Performance Insights) and read from DATABASE_READ_HOST (docs/database.md, \"Read replica\").", func(s *Settings) *bool { return &s.Database.ReadReplica }),
		str("dbReplicaInstanceClass", "RDS instance class of the read replica. Empty: dbInstanceClass.", func(s *Settings) *string { return &s.Database.ReplicaClass }),
		tristate("dbBlueGreenUpdate", "true: a major upgrade (dbEngineVersion with dbAllowMajorUpgrade) goes through an RDS Blue/Green deployment during pulumi up (switchover typically under a minute) instead of in place. Empty: false in dev, true elsewhere.", func(s *Settings) *bool { return &s.Database.BlueGreen }),
		boolean("dbAllowMajorUpgrade", "Let a dbEngineVersion change upgrade the running instance; set it only for the upgrade (docs/database.md).", func(s *Settings) *bool { return &s.Database.AllowMajorUpgrade }),
		tristate("dbApplyImmediately", "true: database changes apply at once (brief outage for some); false: in the maintenance window. Empty: true in dev, false elsewhere.", func(s *Settings) *bool { return &s.Database.ApplyImmediately }),
		str("dbBackupReplicationRegion", "Region to copy automated backups to, for a region loss. Empty: off.", func(s *Settings) *string { return &s.Database.BackupReplicationRegion }),
		integer("dbSlowQueryMs", "Log statements slower than this many milliseconds. 0: 500.", func(s *Settings) *int { return &s.Database.SlowQueryMs }),
	},
	defaults: func(s *Settings) {
		d := &s.Database
		d.EngineMajor = "17"
		d.InstanceClass = "db.t4g.medium"
		d.MultiAz = true
		d.AllocatedGb, d.MaxAllocatedGb = 50, 500
		d.BackupRetention = 30
		d.BlueGreen = s.Environment != Dev
		if s.Environment == Dev {
			d.InstanceClass, d.MultiAz = "db.t4g.micro", false
			d.ApplyImmediately = true
			d.AllocatedGb, d.MaxAllocatedGb = 20, 100
			d.BackupRetention = 7
		}
		d.BackupWindow = "07:00-08:00"
		if s.Environment == Dev {
			// Dev's database is stopped at night, when RDS would skip the backup: midday in
			// Colombia instead (dev sleeps outside office hours by default).
			d.BackupWindow = "17:00-17:30"
		}
		d.MaintenanceWindow = "sun:08:30-sun:09:30"
		d.Name, d.Username = "canalco", "canalco_admin"
		d.SlowQueryMs = 500
	},
	derive: func(s *Settings) {
		if s.Database.ReplicaClass == "" {
			s.Database.ReplicaClass = s.Database.InstanceClass
		}
	},
	validate: validateDatabase,
}

func validateDatabase(s *Settings, p *problems) {
	d := &s.Database
	if !slices.Contains(supportedMajors, d.EngineMajor) {
		p.add("dbEngineVersion", d.EngineMajor, fmt.Sprintf("a major version in RDS standard support: %s", strings.Join(supportedMajors, ", ")))
	}
	if _, ok := InstanceClasses[d.InstanceClass]; !ok {
		classes := make([]string, 0, len(InstanceClasses))
		for c := range InstanceClasses {
			classes = append(classes, c)
		}
		sort.Strings(classes)
		p.add("dbInstanceClass", d.InstanceClass, "one of "+strings.Join(classes, ", "))
	}
	if s.Environment != Dev && !d.MultiAz {
		p.add("dbMultiAz", d.MultiAz, "true outside dev: a standby in another AZ is the platform's failover (RTO < 1 h)")
	}
	if d.AllocatedGb < 20 || d.AllocatedGb > 65536 {
		p.add("dbAllocatedStorageGb", d.AllocatedGb, "20 to 65536 (gp3 limits)")
	}
	// RDS User Guide, "Managing capacity automatically with Amazon RDS storage autoscaling": the
	// maximum storage threshold must be at least 10% above the allocated storage.
	if d.MaxAllocatedGb*10 < d.AllocatedGb*11 || d.MaxAllocatedGb > 65536 {
		p.add("dbMaxAllocatedStorageGb", d.MaxAllocatedGb, fmt.Sprintf("at least 10%% more than dbAllocatedStorageGb (%d, so %d) and at most 65536", d.AllocatedGb, (d.AllocatedGb*11+9)/10))
	}
	if d.BackupRetention < 1 || d.BackupRetention > 35 {
		p.add("dbBackupRetentionDays", d.BackupRetention, "1 to 35 days (RDS limits; 0 would turn backups off)")
	} else if s.IsProd() && d.BackupRetention < 30 {
		p.add("dbBackupRetentionDays", d.BackupRetention, "at least 30 in prod (the backup strategy's retention)")
	} else if s.Environment != Dev && d.BackupRetention < 7 {
		p.add("dbBackupRetentionDays", d.BackupRetention, "at least 7 outside dev (FSBP RDS.11)")
	}
	bw, bwOK := parseWindow(d.BackupWindow)
	if !bwOK {
		p.add("dbBackupWindow", d.BackupWindow, "hh:mm-hh:mm in UTC, at least 30 minutes, such as 07:00-08:00")
	}
	mw, mwOK := parseMaintenance(d.MaintenanceWindow)
	if !mwOK {
		p.add("dbMaintenanceWindow", d.MaintenanceWindow, "ddd:hh:mm-ddd:hh:mm in UTC, at least 30 minutes, such as sun:08:30-sun:09:30")
	}
	if o := s.Compute.Office; bwOK && o.Sleep && !withinOfficeHours(bw, o, s.Timezone) {
		p.add("dbBackupWindow", d.BackupWindow, fmt.Sprintf("a UTC window inside office hours (%02d:00-%02d:00 %s): a stopped database gets no automated backup", o.Start, o.End, s.Timezone))
	}
	if bwOK && mwOK && overlapsWeekly(bw, mw) {
		p.add("dbMaintenanceWindow", d.MaintenanceWindow, "a window that does not overlap dbBackupWindow "+d.BackupWindow+" (RDS rejects overlapping windows)")
	}
	if !identifierPattern.MatchString(d.Name) || reservedDBWords[d.Name] {
		p.add("dbName", d.Name, "1 to 63 lowercase letters, digits or underscores starting with a letter, not a reserved word")
	}
	if !identifierPattern.MatchString(d.Username) || reservedDBWords[d.Username] || d.Username == "postgres" {
		p.add("dbUsername", d.Username, "1 to 63 lowercase letters, digits or underscores, not postgres, rdsadmin or another reserved name")
	}
	// The stack name allows hyphens that RDS identifiers do not (doubled or trailing).
	if id := s.Name(ReplicaThing); !rdsIdentifierPattern.MatchString(id) || len(id) > 63 {
		p.addf("stack name %q gives the RDS identifier %q: RDS wants 1 to 63 letters, digits or single hyphens, starting with a letter and not ending with a hyphen; rename the stack", s.Stack, id)
	}
	if _, ok := InstanceClasses[d.ReplicaClass]; !ok && d.ReadReplica {
		p.add("dbReplicaInstanceClass", d.ReplicaClass, "one of the classes dbInstanceClass accepts, or empty for dbInstanceClass")
	}
	if d.BackupReplicationRegion != "" && (d.BackupReplicationRegion == s.Region || !regionPattern.MatchString(d.BackupReplicationRegion)) {
		p.add("dbBackupReplicationRegion", d.BackupReplicationRegion, "an AWS region other than "+s.Region+", or empty")
	}
	if d.SlowQueryMs < 10 || d.SlowQueryMs > 60000 {
		p.add("dbSlowQueryMs", d.SlowQueryMs, "10 to 60000 milliseconds")
	}
}

var reservedDBWords = map[string]bool{"postgres": true, "rdsadmin": true, "rdsrepladmin": true, "admin": true, "template0": true, "template1": true, "user": true, "select": true, "table": true}

var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)

// parseWindow returns a daily window as minutes of the day [start, end).
func parseWindow(w string) ([2]int, bool) {
	m := windowPattern.FindStringSubmatch(w)
	if m == nil {
		return [2]int{}, false
	}
	start, end := atoi(m[1])*60+atoi(m[2]), atoi(m[3])*60+atoi(m[4])
	length := (end - start + 1440) % 1440
	return [2]int{start, end}, length >= 30
}

// withinOfficeHours reports whether the daily UTC window [start, end) falls inside the office
// hours in their time zone, in winter and in summer (an unknown zone is reported elsewhere).
func withinOfficeHours(w [2]int, o OfficeHours, timezone string) bool {
	loc, err := time.LoadLocation(timezone)
	if err != nil {
		return true
	}
	for _, month := range []time.Month{time.January, time.July} {
		_, offset := time.Date(2026, month, 15, 12, 0, 0, 0, loc).Zone()
		start := ((w[0]+offset/60)%1440 + 1440) % 1440
		length := (w[1] - w[0] + 1440) % 1440
		if start < o.Start*60 || start+length > o.End*60 {
			return false
		}
	}
	return true
}

var weekdays = map[string]int{"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}

// parseMaintenance returns a weekly window as minutes of the week [start, end).
func parseMaintenance(w string) ([2]int, bool) {
	m := maintenancePattern.FindStringSubmatch(w)
	if m == nil {
		return [2]int{}, false
	}
	start := weekdays[m[1]]*1440 + atoi(m[2])*60 + atoi(m[3])
	end := weekdays[m[4]]*1440 + atoi(m[5])*60 + atoi(m[6])
	length := (end - start + 7*1440) % (7 * 1440)
	return [2]int{start, end}, length >= 30 && length <= 24*60
}

// overlapsWeekly reports whether a daily window meets a weekly one on any day.
func overlapsWeekly(daily, weekly [2]int) bool {
	const week = 7 * 1440
	in := func(t int, w [2]int) bool { // t in [w0, w1) on a circular week
		t, a, b := (t+week)%week, w[0], w[1]
		if a <= b {
			return t >= a && t < b
		}
		return t >= a || t < b
	}
	for day := 0; day < 7; day++ {
		dl := (daily[1] - daily[0] + 1440) % 1440
		ds := day*1440 + daily[0]
		for t := 0; t < dl; t++ {
			if in(ds+t, weekly) {
				return true
			}
		}
	}
	return false
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
