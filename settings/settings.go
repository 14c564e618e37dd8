// Package settings turns a stack's Pulumi config into typed, validated settings.
//
// Every key lives in the canalco namespace and is declared once, in the section of the layer
// that uses it (network.go, database.go, ...). Each environment has a profile of defaults;
// stack files override only what differs. Parse reports every problem at once, before any
// resource exists.
package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Environment selects a profile of defaults.
type Environment string

// The environments of the platform.
const (
	Dev     Environment = "dev"
	Staging Environment = "staging"
	Prod    Environment = "prod"
)

// Environments lists the profiles in promotion order.
var Environments = []Environment{Dev, Staging, Prod}

// Settings is everything the program needs to know about one stack.
type Settings struct {
	Project     string
	Stack       string
	Environment Environment
	Region      string
	// AccountID is the one account the stack may run in: aws:allowedAccountIds, the AWS
	// provider's own key, naming exactly one account.
	AccountID  string
	CostCenter string
	Timezone   string

	Domain     Domain
	Network    Network
	Database   Database
	Compute    Compute
	Storage    Storage
	Serverless Serverless
	Monitoring Monitoring
	Delivery   Delivery
	Usage      Usage
}

// Prefix starts every AWS name of this stack: canalco-<stack>.
func (s *Settings) Prefix() string { return s.Project + "-" + s.Stack }

// Name is the AWS name of a thing in this stack: canalco-<stack>-<thing>.
func (s *Settings) Name(thing string) string { return s.Prefix() + "-" + thing }

// Protected reports whether stateful resources get deletion protection, final snapshots and
// Pulumi's protect option. Staging holds prod-like data, so it is protected too.
func (s *Settings) Protected() bool { return s.Environment != Dev }

// IsProd reports whether this is the production environment.
func (s *Settings) IsProd() bool { return s.Environment == Prod }

// section is one layer's share of the settings.
type section struct {
	keys []Key
	// defaults fills the environment's profile before the stack's values are applied.
	defaults func(*Settings)
	// derive fills values computed from other settings, after the stack's values.
	derive func(*Settings)
	// validate reports every invalid value.
	validate func(*Settings, *problems)
}

var sections = []section{
	generalSection, domainSection, networkSection, databaseSection, computeSection, storageSection,
	serverlessSection, monitoringSection, deliverySection, usageSection,
}

var generalSection = section{
	keys: []Key{
		str("environment", "Profile of defaults: dev, staging or prod. Empty: the stack name. Changing it on a deployed stack changes its protections and replaces or deletes resources (prod's vault lock): never do it.", func(s *Settings) *string { return (*string)(&s.Environment) }),
		str("costCenter", "CostCenter tag on every resource.", func(s *Settings) *string { return &s.CostCenter }),
		str("timezone", "IANA time zone of the users, for schedules (e.g. America/Bogota).", func(s *Settings) *string { return &s.Timezone }),
	},
	defaults: func(s *Settings) {
		s.CostCenter = "canalco-platform"
		s.Timezone = "America/Bogota"
	},
	validate: func(s *Settings, p *problems) {
		if !regexp.MustCompile(`^[A-Za-z0-9 ._:/=+@-]{1,256}$`).MatchString(s.CostCenter) {
			p.add("costCenter", s.CostCenter, "1 to 256 letters, digits, spaces or ._:/=+@- (AWS tag value rules)")
		}
		if !regexp.MustCompile(`^[A-Za-z]+(/[A-Za-z0-9_+-]+)+$|^UTC$`).MatchString(s.Timezone) {
			p.add("timezone", s.Timezone, "an IANA time zone such as America/Bogota or UTC")
		}
	},
}

// retired are keys the project no longer reads, with what replaced them and the fix: a stack
// that still sets one is refused rather than silently ignored.
var retired = map[string]string{
	// A release in stack config was reset by every `pulumi up` from a clean checkout.
	"backendImageTag":   "the backend release is no longer stack config: remove it with `pulumi config rm canalco:backendImageTag` and release with `scripts/deploy-backend.sh deploy <stack> <image-tag>` (docs/compute.md)",
	"albCloudFrontOnly": "the load balancer is internal and only CloudFront's VPC origin reaches it (docs/cdn.md); run `pulumi config rm canalco:albCloudFrontOnly`",
}

// Input is the raw material of a stack's settings.
type Input struct {
	Project string
	Stack   string
	// Values holds every config value of the stack, keyed namespace:name.
	Values map[string]string
	// IsSecret reports whether a key was set with --secret.
	IsSecret func(key string) bool
}

var stackNamePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,9}$`)

// Parse builds and validates the settings of one stack.
func Parse(in Input) (*Settings, error) {
	var p problems
	if !stackNamePattern.MatchString(in.Stack) {
		p.addf("stack name %q: expected 1 to 10 lowercase letters, digits or hyphens starting with a letter, because it is part of every AWS resource name", in.Stack)
	}
	s := &Settings{Project: in.Project, Stack: in.Stack}
	env := Environment(in.Values[Namespace+":environment"])
	if env == "" {
		env = Environment(in.Stack)
	}
	if !env.valid() {
		p.addf("%s:environment = %q: stack %q has no profile of its own; set canalco:environment to dev, staging or prod", Namespace, string(env), in.Stack)
	}
	s.Region = in.Values["aws:region"]
	if !regionPattern.MatchString(s.Region) {
		p.addf("aws:region = %q: expected an AWS region such as us-east-1; run `pulumi config set aws:region us-east-1`", s.Region)
	}
	s.AccountID = accountID(in.Values["aws:allowedAccountIds"], &p)
	if len(p) > 0 {
		return nil, p.err(in.Stack)
	}
	s.Environment = env

	for _, sec := range sections {
		if sec.defaults != nil {
			sec.defaults(s)
		}
	}
	known := map[string]Key{}
	for _, k := range Keys() {
		known[k.FullName()] = k
	}
	names := make([]string, 0, len(in.Values))
	for name := range in.Values {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		raw := in.Values[name]
		if !strings.HasPrefix(name, Namespace+":") {
			continue
		}
		k, ok := known[name]
		if fix, gone := retired[strings.TrimPrefix(name, Namespace+":")]; !ok && gone {
			p.addf("%s is no longer a setting: %s", name, fix)
			continue
		}
		if !ok {
			hint := "remove it or check the spelling (see docs/settings.md)"
			if c := closest(strings.TrimPrefix(name, Namespace+":"), Keys()); c != "" {
				hint = fmt.Sprintf("did you mean %s:%s?", Namespace, c)
			}
			p.addf("%s is not a setting of this project: %s", name, hint)
			continue
		}
		if k.Secret && raw != "" && (in.IsSecret == nil || !in.IsSecret(name)) {
			p.addf("%s is stored in plain text: set it with `pulumi config set --secret %s <value>`", name, name)
			continue
		}
		k.apply(s, raw, &p)
	}
	s.Environment = env // the environment key itself is applied above; keep the resolved value
	for _, sec := range sections {
		if sec.derive != nil {
			sec.derive(s)
		}
	}
	for _, sec := range sections {
		if sec.validate != nil {
			sec.validate(s, &p)
		}
	}
	if len(p) > 0 {
		return nil, p.err(in.Stack)
	}
	return s, nil
}

// Profile returns the environment's defaults, as a stack that sets nothing but its region gets them.
func Profile(env Environment, region string) *Settings {
	s := &Settings{Project: "canalco", Stack: string(env), Environment: env, Region: region}
	for _, sec := range sections {
		if sec.defaults != nil {
			sec.defaults(s)
		}
	}
	for _, sec := range sections {
		if sec.derive != nil {
			sec.derive(s)
		}
	}
	return s
}

// accountIDPattern is an AWS account ID: twelve digits.
var accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// accountID reads aws:allowedAccountIds, which must name exactly one account: one account per
// environment, so the provider refuses every other one (docs/identities.md).
func accountID(raw string, p *problems) string {
	var ids []string
	if json.Unmarshal([]byte(raw), &ids) != nil || len(ids) != 1 || !accountIDPattern.MatchString(ids[0]) {
		p.addf("aws:allowedAccountIds = %s: expected a list with the one 12-digit account ID of this environment; add to the stack file\n      aws:allowedAccountIds:\n        - \"<account ID>\"\n    (quoted: unquoted digits are a number, which the AWS provider refuses)", strconv.Quote(raw))
		return ""
	}
	return ids[0]
}

func (e Environment) valid() bool {
	for _, v := range Environments {
		if e == v {
			return true
		}
	}
	return false
}

func (p problems) err(stack string) error {
	noun := "problem"
	if len(p) > 1 {
		noun = "problems"
	}
	return fmt.Errorf("settings of stack %q: %d %s, nothing was created:\n  - %s", stack, len(p), noun, strings.Join(p, "\n  - "))
}

// Load reads the stack's config from the running program.
func Load(ctx *pulumi.Context) (*Settings, error) {
	values, err := configValues(ctx)
	if err != nil {
		return nil, err
	}
	return Parse(Input{Project: ctx.Project(), Stack: ctx.Stack(), Values: values, IsSecret: ctx.IsConfigSecret})
}

// configValues gathers every config value of the stack. The engine hands a Go program its
// config in PULUMI_CONFIG, and the context cannot list keys, so the variable is the only
// way to find keys the project does not know (the misspelt ones).
func configValues(ctx *pulumi.Context) (map[string]string, error) {
	values := map[string]string{}
	if raw := os.Getenv(pulumi.EnvConfig); raw != "" {
		if err := json.Unmarshal([]byte(raw), &values); err != nil {
			return nil, fmt.Errorf("settings: reading %s: %w", pulumi.EnvConfig, err)
		}
	}
	names := []string{"aws:region", "aws:allowedAccountIds"}
	for _, k := range Keys() {
		names = append(names, k.FullName())
	}
	for _, name := range names {
		if v, ok := ctx.GetConfig(name); ok {
			values[name] = v
		}
	}
	if len(values) == 0 {
		return nil, errors.New("settings: the stack has no config; run `pulumi config set aws:region us-east-1` first")
	}
	return values, nil
}

// Retired are the keys the project no longer reads (a stack that sets one is refused).
func Retired() []string { return slices.Sorted(maps.Keys(retired)) }
