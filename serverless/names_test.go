package serverless_test

import (
	"regexp"
	"testing"

	"github.com/canalco/infra/offline"
)

// awsNames are the name rules of the services this layer names: which input holds the name,
// the characters AWS allows and the longest name it takes.
var awsNames = map[string]struct {
	field   string
	pattern string
	max     int
}{
	functionType:          {"name", `^[A-Za-z0-9_-]+$`, 64},
	roleType:              {"name", `^[\w+=,.@-]+$`, 64},
	rolePolicyType:        {"name", `^[\w+=,.@-]+$`, 128},
	queueType:             {"name", `^[A-Za-z0-9_-]+$`, 80},
	topicType:             {"name", `^[A-Za-z0-9_-]+$`, 256},
	scheduleType:          {"name", `^[0-9A-Za-z_.-]+$`, 64},
	logGroupType:          {"name", `^[A-Za-z0-9_./#-]+$`, 512},
	bucketType:            {"bucket", `^[a-z0-9][a-z0-9.-]*[a-z0-9]$`, 63},
	objectType:            {"key", `^[A-Za-z0-9!_.*'()/-]+$`, 1024},
	configSetType:         {"configurationSetName", `^[A-Za-z0-9_-]+$`, 64},
	eventDestType:         {"eventDestinationName", `^[A-Za-z0-9_-]+$`, 64},
	templateType:          {"name", `^[A-Za-z0-9_-]+$`, 64},
	secretType:            {"name", `^[A-Za-z0-9/_+=.@-]+$`, 512},
	"aws:kms/alias:Alias": {"name", `^alias/[A-Za-z0-9/_-]+$`, 256},
}

// Every name the layer sets fits its service, in the real stacks and in the longest stack name
// settings accept (10 characters) in a region with a long name.
func TestNamesFitTheirServices(t *testing.T) {
	cfg, err := offline.LoadConfig(offline.Root(t), "prod")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Stack = "abcdefghij"
	cfg.Values["canalco:environment"] = "prod"
	cfg.Values["aws:region"] = "ap-southeast-2"
	cfg.Values["canalco:availabilityZones"] = `["ap-southeast-2a","ap-southeast-2b"]`
	longest, err := offline.RunConfig(cfg)
	if err != nil {
		t.Fatalf("plan with a 10-character stack name: %v", err)
	}
	results := map[string]*offline.Result{"abcdefghij": longest}
	for _, stack := range offline.Stacks {
		results[stack] = offline.Stack(t, stack)
	}
	for stack, res := range results {
		t.Run(stack, func(t *testing.T) {
			checked := 0
			for token, rule := range awsNames {
				re := regexp.MustCompile(rule.pattern)
				for _, r := range res.OfType(token) {
					if res.Ancestor(r, layerToken) == nil {
						continue
					}
					name := r.Str(rule.field)
					if name == "" || len(name) > rule.max || !re.MatchString(name) {
						t.Errorf("%s %s: name %q (%d characters) breaks %s, at most %d", token, r.Name, name, len(name), rule.pattern, rule.max)
					}
					checked++
				}
			}
			if checked < 40 {
				t.Errorf("only %d names checked", checked)
			}
		})
	}
}
