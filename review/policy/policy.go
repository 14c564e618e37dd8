// Package policy is the platform's security policy pack: AWS Foundational Security Best
// Practices (FSBP) controls, CIS where FSBP is silent, and Canalco platform rules, evaluated on
// every registered resource of a stack before anything is deployed.
//
// A rule is data: its control ID, severity, the resource types it checks, a one-line fix and a
// check function. Accepted exceptions are data too (exceptions.go), each with its reason.
package policy

import (
	"sort"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/review/graph"
	"github.com/canalco/infra/settings"
)

// Framework names where a control comes from.
type Framework string

// The frameworks of the pack.
const (
	FSBP    Framework = "FSBP"    // AWS Foundational Security Best Practices (Security Hub)
	CIS     Framework = "CIS"     // CIS AWS Foundations Benchmark
	Canalco Framework = "Canalco" // the platform's own rules, where neither has a control
)

// Severity is Security Hub's scale.
type Severity int

// Severities, lowest first.
const (
	Low Severity = iota + 1
	Medium
	High
	Critical
)

func (s Severity) String() string {
	return [...]string{"", "LOW", "MEDIUM", "HIGH", "CRITICAL"}[s]
}

// Rule is one control.
type Rule struct {
	ID            string
	Framework     Framework
	Severity      Severity
	ResourceTypes []string
	Title         string
	Fix           string
	// Check returns whether the resource complies and, when it does not, what is wrong.
	Check func(r *offline.Resource, ctx *Context) (ok bool, msg string)
	// AppliesTo limits the rule to some environments; nil means every environment.
	AppliesTo func(env settings.Environment) bool
}

// Exception accepts a rule's failure on the resources it matches, for a written reason.
type Exception struct {
	RuleID string
	Match  func(r *offline.Resource, ctx *Context) bool
	Reason string
}

// Context is what a check may look at beside its resource: the whole plan and the settings.
type Context struct {
	*graph.Index
	Settings *settings.Settings
}

// Env is the stack's environment.
func (c *Context) Env() settings.Environment { return c.Settings.Environment }

// Finding is the outcome of one rule on one resource.
type Finding struct {
	Rule     *Rule
	Resource *offline.Resource
	Message  string
	// Reason is set when the failure is an accepted exception.
	Reason string
}

// Report is the pack's verdict on a stack.
type Report struct {
	Passed   int
	Failures []Finding
	Excepted []Finding
}

// Evaluate runs every rule on every resource of its types.
func Evaluate(res *offline.Result, s *settings.Settings) *Report {
	return EvaluateRules(res, s, Rules(), Exceptions())
}

// EvaluateRules runs the given rules and exceptions; tests use it to check one rule alone.
func EvaluateRules(res *offline.Result, s *settings.Settings, rules []Rule, exceptions []Exception) *Report {
	ctx := &Context{Index: graph.New(res), Settings: s}
	rep := &Report{}
	for i := range rules {
		rule := &rules[i]
		if rule.AppliesTo != nil && !rule.AppliesTo(s.Environment) {
			continue
		}
		for _, r := range ctx.OfType(rule.ResourceTypes...) {
			ok, msg := rule.Check(r, ctx)
			if ok {
				rep.Passed++
				continue
			}
			f := Finding{Rule: rule, Resource: r, Message: msg}
			if e := matchException(exceptions, rule.ID, r, ctx); e != nil {
				f.Reason = e.Reason
				rep.Excepted = append(rep.Excepted, f)
				continue
			}
			rep.Failures = append(rep.Failures, f)
		}
	}
	sortFindings(rep.Failures)
	sortFindings(rep.Excepted)
	return rep
}

func matchException(list []Exception, id string, r *offline.Resource, ctx *Context) *Exception {
	for i := range list {
		if list[i].RuleID == id && list[i].Match(r, ctx) {
			return &list[i]
		}
	}
	return nil
}

// sortFindings orders by severity (worst first), then control ID, then resource name.
func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Rule.Severity != b.Rule.Severity {
			return a.Rule.Severity > b.Rule.Severity
		}
		if a.Rule.ID != b.Rule.ID {
			return a.Rule.ID < b.Rule.ID
		}
		return a.Resource.Name < b.Resource.Name
	})
}

// Rules is the whole pack, grouped by service.
func Rules() []Rule {
	var all []Rule
	for _, group := range [][]Rule{networkRules, computeRules, loadBalancerRules, databaseRules, bucketRules,
		cdnRules, serverlessRules, keyAndSecretRules, observabilityRules, identityRules} {
		all = append(all, group...)
	}
	return all
}

// notDev limits a rule to the protected environments (staging and prod).
func notDev(env settings.Environment) bool { return env != settings.Dev }

// prodOnly limits a rule to production.
func prodOnly(env settings.Environment) bool { return env == settings.Prod }

// pass and fail keep checks short.
func pass() (bool, string)           { return true, "" }
func fail(msg string) (bool, string) { return false, msg }
func check(ok bool, msg string) (bool, string) {
	if ok {
		return pass()
	}
	return fail(msg)
}
