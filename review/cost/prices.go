package cost

// Prices are AWS on-demand list prices for us-east-1 in USD, copied from the team's price sheet
// (shared/prices/aws-us-east-1.md, itself taken from the AWS pricing pages). Update the figures
// and PricesDate together; "approx." figures came from secondary sources.
const (
	PricesDate   = "2026-11"
	PricesSource = "AWS on-demand pricing pages, us-east-1 (team price sheet aws-us-east-1.md)"
	// HoursPerMonth is AWS's billing month.
	HoursPerMonth = 730.0
)

// InstanceType is what the estimate needs to know about an EC2 instance type.
type InstanceType struct {
	Hourly    float64
	MemoryGiB float64
	// Arch is x86_64 or arm64: the backend image is built for one of them.
	Arch string
}

// EC2 instance types, Linux on-demand.
var EC2 = map[string]InstanceType{
	"t3.small": {0.0208, 2, "x86_64"}, "t3.medium": {0.0416, 4, "x86_64"}, "t3.large": {0.0832, 8, "x86_64"},
	"t4g.small": {0.0168, 2, "arm64"}, "t4g.medium": {0.0336, 4, "arm64"}, "t4g.large": {0.0672, 8, "arm64"},
	"m7g.large": {0.0816, 8, "arm64"},
}

// RDSHourly is RDS for PostgreSQL single-AZ per hour (approx.); Multi-AZ doubles it.
var RDSHourly = map[string]float64{
	"db.t3.micro": 0.018, "db.t3.small": 0.036, "db.t3.medium": 0.072, "db.t3.large": 0.145,
	"db.t4g.micro": 0.016, "db.t4g.small": 0.032, "db.t4g.medium": 0.065, "db.t4g.large": 0.129,
	"db.m7g.large": 0.168,
}

// Unit prices.
const (
	EBSGp3GBMonth         = 0.08
	EBSSnapshotGBMonth    = 0.05 // approx. (EBS pricing page; not on the team sheet)
	RDSGp3GBMonth         = 0.115
	RDSGp3MultiAZGBMonth  = 0.23
	RDSBackupGBMonth      = 0.095 // beyond 100% of the database's storage
	ALBHour               = 0.0225
	LCUHour               = 0.008
	NATHour               = 0.045
	NATPerGB              = 0.045
	PublicIPv4Hour        = 0.005
	S3GBMonth             = 0.023
	S3PutPer1000          = 0.005
	S3GetPer1000          = 0.0004
	CloudFrontPerGB       = 0.085
	CloudFrontPer10kHTTPS = 0.01
	CloudFrontFreeGB      = 1000     // always free, per month
	CloudFrontFreeReqs    = 10000000 // always free, per month
	CFFunctionsPer1M      = 0.10     // approx.
	CFFunctionsFree       = 2000000
	LambdaPer1MReqs       = 0.20
	LambdaGBSecondX86     = 0.0000166667
	LambdaGBSecondArm     = 0.0000133334
	LambdaFreeReqs        = 1000000
	LambdaFreeGBSeconds   = 400000
	SESPer1000            = 0.10 // approx.
	SQSPer1M              = 0.40
	SQSFreeReqs           = 1000000
	AlarmMonth            = 0.10
	CompositeAlarmMonth   = 0.50 // approx.
	FreeAlarms            = 10
	CustomMetricMonth     = 0.30
	FreeMetrics           = 10
	DashboardMonth        = 3.00
	FreeDashboards        = 3
	LogsIngestPerGB       = 0.50
	LogsStoredGBMonth     = 0.03
	LogsFreeGB            = 5 // approx.
	SecretMonth           = 0.40
	KMSKeyMonth           = 1.00
	InterfaceEndpointHour = 0.01 // per AZ
	InterfaceEndpointGB   = 0.01
	WAFACLMonth           = 5.00
	WAFRuleMonth          = 1.00
	WAFPer1MReqs          = 0.60
	ECRGBMonth            = 0.10 // approx.
)
