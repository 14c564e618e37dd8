package serverless

import (
	"fmt"

	"github.com/canalco/infra/env"
	"github.com/canalco/infra/logs"
	"github.com/canalco/infra/security"
	"github.com/canalco/infra/storage"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Runtime, architecture and handler of every function. Lambda.2: a supported runtime.
const (
	Runtime      = "python3.13"
	Architecture = "arm64" // Graviton: about 20% cheaper per GB-second than x86_64
	Handler      = "handler.handler"
)

// The functions, by their folder under serverless/functions.
const (
	notificationsFunction = "notifications"
	auditFunction         = "audit"
	cleanupFunction       = "cleanup"
	reportsFunction       = "reports"
)

// functionSpec sizes a function for its job.
type functionSpec struct {
	Name        string
	Description string
	// Timeout is in seconds, Memory in MB.
	Timeout, Memory int
	// Reserved caps the function's concurrency, so that no job can starve the others (or the
	// account) of concurrency, nor flood what it calls.
	Reserved int
	// OnFailure is the queue (a thing name) that receives failed asynchronous invocations
	// after Lambda's retries; empty for a function that is only fed by SQS.
	OnFailure string
	// InVpc puts the function in the private subnets, for a function that talks to a database.
	InVpc bool
}

// functionSpecs are the four functions of the seed, in a stable order.
var functionSpecs = []functionSpec{
	// 5 concurrent sends stay under SES's initial production rate of 14 emails a second.
	{Name: notificationsFunction, Description: "Sends the platform's templated emails (SNS domain events, scheduled summary)",
		Timeout: 30, Memory: 256, Reserved: 5, OnFailure: notificationsDLQ},
	// Audit batches of 100 take seconds; 5 writers keep up with the backend's bursts.
	{Name: auditFunction, Description: "Writes audit events from SQS to S3 as JSON lines, partitioned by date",
		Timeout: 60, Memory: 256, Reserved: 5},
	// One run at a time: two runs would copy and delete the same objects.
	{Name: cleanupFunction, Description: "Deletes expired temporary objects and archives old audit partitions",
		Timeout: 300, Memory: 256, Reserved: 1, OnFailure: jobsDLQ},
	// Reports hold a year of rows in memory; two at a time bound memory cost and S3 reads.
	// Sized from serverless/functions/tests/bench_reports.py: a 10,000-row pdf takes about 9 s
	// of one core and the process peaks near 130 MB. Lambda gives a full vCPU at 1,769 MB and a
	// share in proportion below, so 512 MB would take about 30 s; 1,769 MB keeps it under 10 s,
	// and at a few reports a day the larger size costs cents. 300 s covers reading a year of
	// daily partitions (366 listings) besides the rendering.
	{Name: reportsFunction, Description: "Builds xlsx, pdf or csv reports into S3 and emails a download link",
		Timeout: 300, Memory: 1769, Reserved: 2, OnFailure: jobsDLQ},
}

// Asynchronous invocations (SNS, Scheduler, manual) are retried twice, for up to 6 hours,
// before they go to the on-failure queue.
const (
	asyncRetries      = 2
	asyncMaxAgeSecond = 6 * 60 * 60
)

// functionArgs describe one function.
type functionArgs struct {
	Env         env.Env
	Spec        functionSpec
	Policy      pulumi.StringInput
	Environment pulumi.StringMap
	KeyArn      pulumi.StringInput
	Code        *storage.PrivateBucket
	// OnFailure is the ARN of the queue for failed asynchronous invocations, or nil.
	OnFailure pulumi.StringInput
	// Vpc places a function with Spec.InVpc; nil for the others.
	Vpc *lambda.FunctionVpcConfigArgs
}

// Function is one Lambda function with its role, log group and code package.
type Function struct {
	pulumi.ResourceState

	Name    string
	Arn     pulumi.StringOutput
	Lambda  *lambda.Function
	RoleArn pulumi.StringOutput
	// RolePolicy must exist before anything that checks the role's rights (event source
	// mappings, invoke configs).
	RolePolicy *iam.RolePolicy
}

func newFunction(ctx *pulumi.Context, name string, a *functionArgs, opts ...pulumi.ResourceOption) (*Function, error) {
	f := &Function{Name: name}
	if err := ctx.RegisterComponentResource("canalco:serverless:Function", name, f, opts...); err != nil {
		return nil, err
	}
	if err := f.build(ctx, a); err != nil {
		return nil, fmt.Errorf("function %s: %w", a.Spec.Name, err)
	}
	return f, ctx.RegisterResourceOutputs(f, pulumi.Map{"arn": f.Arn, "roleArn": f.RoleArn})
}

func (f *Function) build(ctx *pulumi.Context, a *functionArgs) error {
	e, spec, name := a.Env, a.Spec, f.Name
	parent := pulumi.Parent(f)

	// Created before the function so that Lambda never creates it without retention or KMS
	// (CloudWatch.16). Keep: its logs outlive a renamed function.
	logGroup, err := logs.NewGroup(ctx, name, LogGroupName(name), e.Logs, append([]pulumi.ResourceOption{parent}, e.Keep()...)...)
	if err != nil {
		return err
	}
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		Name:             pulumi.String(RoleName(name)),
		Description:      pulumi.String("Execution role of the " + name + " function"),
		AssumeRolePolicy: pulumi.String(security.AssumeRole("lambda.amazonaws.com", e.AccountID)),
	}, parent)
	if err != nil {
		return err
	}
	f.RoleArn = role.Arn
	f.RolePolicy, err = iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{
		Name:   pulumi.String("least-privilege"),
		Role:   role.ID(),
		Policy: a.Policy,
	}, parent)
	if err != nil {
		return err
	}

	pkg, err := packageFunction(spec.Name)
	if err != nil {
		return err
	}
	// "Code versionado en S3": every code change is a new version of the same key.
	code, err := s3.NewBucketObjectv2(ctx, name, &s3.BucketObjectv2Args{
		Bucket:      a.Code.ID,
		Key:         pulumi.String(CodeKey(spec.Name)),
		Source:      pkg.Archive,
		ContentType: pulumi.String("application/zip"),
	}, parent, pulumi.DependsOn(a.Code.Ready))
	if err != nil {
		return err
	}

	layers, err := f.newLayer(ctx, a, spec, parent)
	if err != nil {
		return err
	}
	fn, err := lambda.NewFunction(ctx, name, &lambda.FunctionArgs{
		Name:          pulumi.String(name),
		Description:   pulumi.String(spec.Description),
		Role:          role.Arn,
		Runtime:       pulumi.String(Runtime),
		Architectures: pulumi.StringArray{pulumi.String(Architecture)},
		Handler:       pulumi.String(Handler),
		S3Bucket:      code.Bucket,
		S3Key:         code.Key,
		// A new object version is a new deployment; the hash records what was packaged.
		S3ObjectVersion:              code.VersionId,
		SourceCodeHash:               pulumi.String(pkg.Hash),
		Layers:                       layers,
		Timeout:                      pulumi.Int(spec.Timeout),
		MemorySize:                   pulumi.Int(spec.Memory),
		ReservedConcurrentExecutions: pulumi.Int(spec.Reserved),
		// Lambda.7: X-Ray active tracing.
		TracingConfig: &lambda.FunctionTracingConfigArgs{Mode: pulumi.String("Active")},
		// The environment holds no secret, but names buckets and ARNs: encrypted with our key.
		KmsKeyArn:   a.KeyArn,
		Environment: &lambda.FunctionEnvironmentArgs{Variables: a.Environment},
		// The handlers print their own JSON lines (and EMF metrics): Lambda must not wrap them.
		LoggingConfig: &lambda.FunctionLoggingConfigArgs{LogFormat: pulumi.String("Text"), LogGroup: logGroup.Name},
		// Lambda.3/Lambda.5 do not apply to the functions that only call AWS APIs over TLS: a
		// VPC would add NAT or endpoint costs and no protection. Only the restore check and the
		// secret's rotation, which talk to a database, are in the VPC.
		VpcConfig: a.Vpc,
	}, parent, pulumi.DependsOn([]pulumi.Resource{logGroup, f.RolePolicy}))
	if err != nil {
		return err
	}
	f.Lambda, f.Arn = fn, fn.Arn

	if a.OnFailure == nil {
		return nil
	}
	_, err = lambda.NewFunctionEventInvokeConfig(ctx, name, &lambda.FunctionEventInvokeConfigArgs{
		FunctionName:             fn.Name,
		MaximumRetryAttempts:     pulumi.Int(asyncRetries),
		MaximumEventAgeInSeconds: pulumi.Int(asyncMaxAgeSecond),
		DestinationConfig: &lambda.FunctionEventInvokeConfigDestinationConfigArgs{
			OnFailure: &lambda.FunctionEventInvokeConfigDestinationConfigOnFailureArgs{Destination: a.OnFailure},
		},
	}, parent, pulumi.DependsOn([]pulumi.Resource{f.RolePolicy}))
	return err
}

// newLayer uploads the function's dependency layer (`make lambdas`) beside its code and
// registers it as a layer version for the functions' runtime and architecture; no layer for a
// function without requirements.
func (f *Function) newLayer(ctx *pulumi.Context, a *functionArgs, spec functionSpec, parent pulumi.ResourceOption) (pulumi.StringArray, error) {
	pkg, err := packageLayer(spec.Name, engineAttached())
	if err != nil || pkg == nil {
		return nil, err
	}
	object, err := s3.NewBucketObjectv2(ctx, f.Name+"-layer", &s3.BucketObjectv2Args{
		Bucket:      a.Code.ID,
		Key:         pulumi.String(LayerKey(spec.Name)),
		Source:      pulumi.NewFileAsset(pkg.Zip), // the zip as built: Pulumi must not re-pack it
		ContentType: pulumi.String("application/zip"),
	}, parent, pulumi.DependsOn(a.Code.Ready))
	if err != nil {
		return nil, err
	}
	layer, err := lambda.NewLayerVersion(ctx, f.Name, &lambda.LayerVersionArgs{
		LayerName:               pulumi.String(f.Name + "-deps"),
		Description:             pulumi.String("Packages of " + FunctionsDir + "/" + spec.Name + "/" + RequirementsFile + ", built by `" + buildCommand + "`"),
		S3Bucket:                object.Bucket,
		S3Key:                   object.Key,
		S3ObjectVersion:         object.VersionId,
		SourceCodeHash:          pulumi.String(pkg.Hash),
		CompatibleRuntimes:      pulumi.StringArray{pulumi.String(Runtime)},
		CompatibleArchitectures: pulumi.StringArray{pulumi.String(Architecture)},
	}, parent)
	if err != nil {
		return nil, err
	}
	return pulumi.StringArray{layer.Arn}, nil
}

// LogGroupName is where Lambda writes a function's logs.
func LogGroupName(function string) string { return "/aws/lambda/" + function }

// RoleName is a function's execution role.
func RoleName(function string) string { return function + "-function" }

// CodeKey is the S3 key of a function's package in the artifacts bucket.
func CodeKey(folder string) string { return "functions/" + folder + ".zip" }

// LayerKey is the S3 key of a function's dependency layer in the artifacts bucket.
func LayerKey(folder string) string { return "layers/" + folder + ".zip" }
