package compute_test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/canalco/infra/compute"
	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/settings"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A stack file that still names a release is refused before anything is registered, so no
// `pulumi up` can roll the instances back to the placeholder or to an old image.
func TestReleaseInStackConfigIsRefused(t *testing.T) {
	for _, value := range []string{"", "3f2a9c1"} {
		res, err := offline.WithValues(t, "prod", map[string]string{"canalco:backendImageTag": value})
		require.Error(t, err, "backendImageTag=%q", value)
		assert.Contains(t, err.Error(), "scripts/deploy-backend.sh deploy")
		if res != nil {
			assert.Empty(t, res.OfType(templateType), "no launch template is registered")
		}
	}
	for _, k := range settings.Keys() {
		name := strings.ToLower(k.Name)
		assert.NotContains(t, name, "imagetag", "the release is not stack config")
		assert.NotContains(t, name, "release", "the release is not stack config")
	}
}

// The release is an SSM parameter the program creates once and never writes again: a
// `pulumi up` keeps whatever the release script wrote, and the launch template does not depend
// on it, so a release and a `pulumi up` never change each other's resources.
func TestReleaseParameterIsOwnedByTheReleaseScript(t *testing.T) {
	eachStack(t, func(t *testing.T, l *layer, _ profile) {
		p := find(t, l.res, parameterType, name(l.stack, "backend-release"))
		assert.Equal(t, l.res.OfType(componentType)[0].URN, p.Parent)
		assert.Equal(t, "/canalco/"+l.stack+"/backend/release", p.Str("name"))
		assert.Equal(t, "String", p.Str("type"))
		assert.Equal(t, "Standard", p.Str("tier"))
		assert.Contains(t, p.IgnoreChanges, "value", "pulumi up must not reset a release")
		secret, ok := p.Get("value").(offline.Secret)
		require.True(t, ok)
		assert.Equal(t, compute.NoRelease, secret.Value, "created with the no-release sentinel")
		assert.Regexp(t, p.Str("allowedPattern"), compute.NoRelease)
		assert.Regexp(t, p.Str("allowedPattern"), "3f2a9c1e0b7d")
		assert.NotRegexp(t, p.Str("allowedPattern"), "release/3f2a")

		assert.False(t, l.lt.DependsOn(p.URN), "the launch template does not wait for (or read) the release")
		script := userData(t, l.lt)
		assert.Contains(t, script, "readonly RELEASE_PARAMETER='"+p.Str("name")+"'")
		assert.Contains(t, script, "readonly NO_RELEASE='"+compute.NoRelease+"'")

		out, err := json.Marshal(l.lt.Inputs)
		require.NoError(t, err)
		// Planning the same stack again (a `pulumi up` from a clean checkout) gives the same
		// template: nothing in it comes from a release or from the time of the run.
		again, err := offline.WithValues(t, l.stack, nil)
		require.NoError(t, err)
		out2, err := json.Marshal(find(t, again, templateType, name(l.stack, "backend")).Inputs)
		require.NoError(t, err)
		assert.JSONEq(t, string(out), string(out2))
	})
}

// backendImage runs the boot script's own backend_image function, cut from the rendered script
// with the constants it reads, for one value of the release parameter, with an aws command that
// reports pushed images in the repository (ListImages).
func backendImage(t *testing.T, script, release string, pushed int) (string, error) {
	t.Helper()
	var prelude []string
	// The constants come before the functions (the embedded migrations script repeats some).
	head := script[:strings.Index(script, "\nlog() {")]
	for _, line := range strings.Split(head, "\n") {
		for _, c := range []string{"REGION", "REPOSITORY", "REPOSITORY_NAME", "RELEASE_PARAMETER", "NO_RELEASE", "RELEASE_TAG_PREFIX"} {
			if strings.HasPrefix(line, "readonly "+c+"=") {
				prelude = append(prelude, line)
			}
		}
	}
	require.Len(t, prelude, 6)
	cut := func(start string) string {
		i := strings.Index(script, start)
		require.GreaterOrEqual(t, i, 0, "the boot script defines %s", start)
		return script[i : i+strings.Index(script[i:], "\n}\n")+3]
	}
	fakeAWS := fmt.Sprintf(`aws() {
	[[ "$*" == "ecr list-images --region $REGION --repository-name $REPOSITORY_NAME --query length(imageIds) --output text" ]] || { echo "unexpected: aws $*" >&2; return 9; }
	echo %d
}
`, pushed)
	code := strings.Join(prelude, "\n") + "\n" + fakeAWS + cut("log() {") + cut("backend_image() {") + `backend_image "$1"`
	out, err := exec.Command("bash", "-c", "set -euo pipefail\n"+code, "boot", release).Output()
	return strings.TrimSpace(string(out)), err
}

// The placeholder serves only while nothing was ever pushed and the parameter still holds the
// sentinel it was created with. Otherwise an unreadable or malformed release makes the boot fail
// (nothing answers the health check, so the group replaces the instance and the unhealthy-host
// alarm fires) instead of serving a healthy placeholder in front of a missing API.
func TestPlaceholderOnlyBeforeTheFirstRelease(t *testing.T) {
	l := load(t, "prod")
	script := userData(t, l.lt)
	repo := out(l.repo, "repositoryUrl")
	cases := []struct {
		release string
		pushed  int
		image   string
		fails   bool
	}{
		{release: compute.NoRelease, pushed: 0, image: ""},
		// Images exist (a release under the old scheme, or a push): never the placeholder.
		{release: compute.NoRelease, pushed: 1, fails: true},
		{release: "3f2a9c1", pushed: 12, image: repo + ":release-3f2a9c1"},
		{release: "v1.4.0_rc1", pushed: 2, image: repo + ":release-v1.4.0_rc1"},
		{release: "", pushed: 2, fails: true},
		{release: "a b", pushed: 2, fails: true},
		{release: "../latest", pushed: 2, fails: true},
		{release: strings.Repeat("a", 121), pushed: 2, fails: true},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%q with %d images", c.release, c.pushed), func(t *testing.T) {
			image, err := backendImage(t, script, c.release, c.pushed)
			if c.fails {
				assert.Error(t, err, "release %q must fail the boot", c.release)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.image, image)
		})
	}
	// The placeholder branch is taken only on an empty IMAGE, and IMAGE comes from backend_image
	// under set -e: a failure stops the boot before the placeholder.
	assert.Contains(t, script, "IMAGE=$(retry 3 backend_image \"$release\")\nreadonly IMAGE\n\nif [[ -z \"$IMAGE\" ]]; then")
	assert.Less(t, strings.Index(script, "IMAGE=$(retry 3 backend_image"), strings.Index(script, "canalco-placeholder.service <<UNIT"))
}

// lifecycleRule is one rule of an ECR lifecycle policy as AWS documents its JSON ("Lifecycle
// policy properties in Amazon ECR").
type lifecycleRule struct {
	RulePriority int    `json:"rulePriority"`
	Description  string `json:"description"`
	Selection    struct {
		TagStatus      string   `json:"tagStatus"`
		TagPrefixList  []string `json:"tagPrefixList"`
		TagPatternList []string `json:"tagPatternList"`
		CountType      string   `json:"countType"`
		CountUnit      string   `json:"countUnit"`
		CountNumber    int      `json:"countNumber"`
	} `json:"selection"`
	Action struct {
		Type string `json:"type"`
	} `json:"action"`
}

// checkLifecycle checks a repository's lifecycle policy against ECR's documented schema and
// the invariant that no rule can select an image carrying only release tags.
func checkLifecycle(t *testing.T, policy string, keep int) []lifecycleRule {
	t.Helper()
	text := offline.LoadAPIModel(t, "ecr").Shapes["LifecyclePolicyText"]
	require.NotNil(t, text, "ecr's model has LifecyclePolicyText")
	assert.GreaterOrEqual(t, float64(len(policy)), *text.Min, "PutLifecyclePolicy's lifecyclePolicyText")
	assert.LessOrEqual(t, float64(len(policy)), *text.Max)
	var doc struct {
		Rules []lifecycleRule `json:"rules"`
	}
	dec := json.NewDecoder(strings.NewReader(policy))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&doc), "ECR.3: a policy in the documented shape")
	priorities := map[int]bool{}
	var untagged int
	for _, r := range doc.Rules {
		s := r.Selection
		assert.False(t, priorities[r.RulePriority], "unique rulePriority")
		priorities[r.RulePriority] = true
		assert.Equal(t, "expire", r.Action.Type)
		assert.Contains(t, []string{"imageCountMoreThan", "sinceImagePushed"}, s.CountType)
		assert.Positive(t, s.CountNumber)
		assert.Equal(t, s.CountType == "sinceImagePushed", s.CountUnit == "days", "countUnit only with sinceImagePushed")
		switch s.TagStatus {
		case "untagged":
			untagged++
			assert.Empty(t, s.TagPrefixList)
			assert.Empty(t, s.TagPatternList)
		case "tagged":
			assert.True(t, len(s.TagPrefixList) > 0 != (len(s.TagPatternList) > 0), "tagged needs one of tagPrefixList or tagPatternList")
		default:
			// "any" would select released images too: ECR has no way to exclude a tag.
			t.Errorf("rule %d selects tagStatus %q", r.RulePriority, s.TagStatus)
		}
		assert.Empty(t, s.TagPatternList, "patterns are not used: the invariant below covers prefixes")
		for _, p := range s.TagPrefixList {
			overlaps := strings.HasPrefix(compute.ReleaseTagPrefix, p) || strings.HasPrefix(p, compute.ReleaseTagPrefix)
			assert.False(t, overlaps, "prefix %q can match a %s tag", p, compute.ReleaseTagPrefix)
		}
	}
	assert.LessOrEqual(t, untagged, 1, "only one rule may select untagged images")
	var builds *lifecycleRule
	for i, r := range doc.Rules {
		if len(r.Selection.TagPrefixList) == 1 && r.Selection.TagPrefixList[0] == compute.BuildTagPrefix {
			builds = &doc.Rules[i]
		}
	}
	require.NotNil(t, builds, "the count rule keeps the newest builds")
	assert.Equal(t, "imageCountMoreThan", builds.Selection.CountType)
	assert.Equal(t, keep, builds.Selection.CountNumber, "ecrKeepImages")
	return doc.Rules
}

type image struct {
	tags   []string
	pushed time.Time
}

// expired applies a lifecycle policy's rules to a repository as "Lifecycle policy evaluation
// rules" (Amazon ECR User Guide, Lifecycle policies) describes them: rules run from the lowest
// priority number; an image matched by a rule's tag selection cannot be expired by a
// lower-priority rule; tagPrefixList matches when every prefix matches one of the image's tags;
// imageCountMoreThan sorts the matched images newest pushed first and expires those past the
// count; sinceImagePushed expires matched images older than the count in days.
func expired(rules []lifecycleRule, images []image, now time.Time) map[int]bool {
	sort.Slice(rules, func(i, j int) bool { return rules[i].RulePriority < rules[j].RulePriority })
	claimed, gone := map[int]bool{}, map[int]bool{}
	for _, r := range rules {
		var matched []int
		for i, img := range images {
			if claimed[i] || !selects(r, img) {
				continue
			}
			matched = append(matched, i)
		}
		sort.Slice(matched, func(a, b int) bool { return images[matched[a]].pushed.After(images[matched[b]].pushed) })
		for n, i := range matched {
			claimed[i] = true
			switch r.Selection.CountType {
			case "imageCountMoreThan":
				gone[i] = gone[i] || n >= r.Selection.CountNumber
			case "sinceImagePushed":
				gone[i] = gone[i] || now.Sub(images[i].pushed) > time.Duration(r.Selection.CountNumber)*24*time.Hour
			}
		}
	}
	return gone
}

func selects(r lifecycleRule, img image) bool {
	switch r.Selection.TagStatus {
	case "any":
		return true
	case "untagged":
		return len(img.tags) == 0
	}
	for _, p := range r.Selection.TagPrefixList {
		var hit bool
		for _, tag := range img.tags {
			hit = hit || strings.HasPrefix(tag, p)
		}
		if !hit {
			return false
		}
	}
	return len(img.tags) > 0
}

// A repository after a long life: the running release and the two before it were pushed long
// ago (a rollback went back to an old build), 60 newer builds followed, and interrupted pushes
// left untagged images. The policy expires old builds and leftovers, never a release.
func TestLifecycleNeverExpiresAReleasedImage(t *testing.T) {
	eachStack(t, func(t *testing.T, l *layer, _ profile) {
		rules := checkLifecycle(t, find(t, l.res, lifecycleType, name(l.stack, "backend")).Str("policy"), 30)
		now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		var images []image
		for i, tag := range []string{"0a1b2c3", "1b2c3d4", "2c3d4e5"} {
			images = append(images, image{[]string{compute.ReleaseTagPrefix + tag}, now.AddDate(-1, 0, i)})
		}
		for i := range 60 {
			images = append(images, image{[]string{fmt.Sprintf("%s%07x", compute.BuildTagPrefix, i)}, now.AddDate(0, 0, -60+i)})
		}
		images = append(images, image{nil, now.AddDate(0, 0, -3)}, image{nil, now.Add(-time.Hour)})

		gone := expired(rules, images, now)
		for i := range 3 {
			assert.False(t, gone[i], "release %v expired", images[i].tags)
		}
		var builds int
		for i := 3; i < 63; i++ {
			if !gone[i] {
				builds++
			}
		}
		assert.Equal(t, 30, builds, "the newest ecrKeepImages builds stay")
		assert.False(t, gone[3+59], "the newest build stays")
		assert.True(t, gone[3], "the oldest build goes")
		assert.True(t, gone[63], "an untagged leftover older than a day goes")
		assert.False(t, gone[64], "a push in progress stays")

		// The evaluator is not blind: a policy with the previous "any" count rule expires the
		// old releases of the same repository.
		old := rules[len(rules)-1]
		old.Selection.TagStatus, old.Selection.TagPrefixList = "any", nil
		gone = expired(append(rules[:len(rules)-1:len(rules)-1], old), images, now)
		assert.True(t, gone[0], "an any-rule expires a release pushed long ago")
	})
}
