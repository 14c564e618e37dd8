package storage_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	immutable = "public,max-age=31536000,immutable"
	noCache   = "no-cache"
)

// site is the frontend bucket and distribution as testdata/fake-aws.sh keeps them, with the
// clock that testdata/fake-date.sh gives scripts/publish-frontend.sh.
type site struct {
	dir, bin string
}

func newSite(t *testing.T) *site {
	t.Helper()
	s := &site{dir: t.TempDir()}
	s.bin = filepath.Join(s.dir, "bin")
	require.NoError(t, os.MkdirAll(filepath.Join(s.dir, "bucket"), 0o755))
	require.NoError(t, os.Mkdir(s.bin, 0o755))
	for name, stub := range map[string]string{"aws": "testdata/fake-aws.sh", "date": "testdata/fake-date.sh"} {
		abs, err := filepath.Abs(stub)
		require.NoError(t, err)
		require.NoError(t, os.Symlink(abs, filepath.Join(s.bin, name)))
	}
	return s
}

// publish runs scripts/publish-frontend.sh on a build (file -> content) at a time and returns
// the object writes, deletes and invalidations it made, in order.
func (s *site) publish(t *testing.T, at time.Time, build map[string]string) []string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range build {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(s.dir, "now"), []byte(fmt.Sprint(at.Unix())), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(s.dir, "events"), nil, 0o644))
	realDate, err := exec.LookPath("date")
	require.NoError(t, err)
	script, err := filepath.Abs("../scripts/publish-frontend.sh")
	require.NoError(t, err)
	cmd := exec.Command(script, dir, "canalco-dev-frontend", "E2EXAMPLE")
	cmd.Env = []string{"PATH=" + s.bin + ":" + os.Getenv("PATH"), "HOME=" + s.dir, "FAKE=" + s.dir,
		"REAL_DATE=" + realDate, "BUCKET=canalco-dev-frontend", "DISTRIBUTION=E2EXAMPLE"}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	events, err := os.ReadFile(filepath.Join(s.dir, "events"))
	require.NoError(t, err)
	return strings.Split(strings.TrimSpace(string(events)), "\n")
}

// objects are the bucket's keys and contents.
func (s *site) objects(t *testing.T) map[string]string {
	t.Helper()
	objects := map[string]string{}
	root := filepath.Join(s.dir, "bucket")
	require.NoError(t, filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		key, _ := filepath.Rel(root, path)
		objects[filepath.ToSlash(key)] = string(b)
		return err
	}))
	return objects
}

// headers are an object's Cache-Control and Content-Type as uploaded.
func (s *site) headers(t *testing.T, key string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.dir, "meta", key))
	require.NoError(t, err)
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// with is the build plus the superseded objects: hashed assets of earlier builds and their
// markers.
func with(build map[string]string, superseded map[string]string) map[string]string {
	all := map[string]string{}
	for k, v := range build {
		all[k] = v
	}
	for k, v := range superseded {
		all[k] = v
	}
	return all
}

func marker(at time.Time, key string) string {
	return fmt.Sprintf(".superseded/%d/%s", at.Unix(), key)
}

// before checks that both events happened, the first one first.
func before(t *testing.T, events []string, first, then string) {
	t.Helper()
	i, j := slices.Index(events, first), slices.Index(events, then)
	assert.True(t, i >= 0 && j >= 0 && i < j, "%q before %q: %v", first, then, events)
}

// TestPublishKeepsThePreviousReleaseForADay publishes three builds and rolls back to the second,
// checking the bucket after each: a tab opened on the previous release still loads its hashed
// assets for a day, entry points the build lacks go at once, nothing is kept longer than needed.
func TestPublishKeepsThePreviousReleaseForADay(t *testing.T) {
	v1 := map[string]string{
		"index.html": "v1 <script src=/assets/app-1a.js>", "favicon.ico": "icon", "offline.html": "offline v1",
		"locales/es.json": `{"v":1}`, "assets/app-1a.js": "app v1", "assets/app-1a.css": "css v1", "assets/vendor-9f.js": "vendor",
	}
	v2 := map[string]string{
		"index.html": "v2 <script src=/assets/app-2b.js>", "favicon.ico": "icon",
		"locales/es.json": `{"v":2}`, "assets/app-2b.js": "app v2", "assets/app-2b.css": "css v2", "assets/vendor-9f.js": "vendor",
	}
	v3 := map[string]string{
		"index.html": "v3 <script src=/assets/app-3c.js>", "favicon.ico": "icon",
		"locales/es.json": `{"v":3}`, "assets/app-3c.js": "app v3", "assets/vendor-9f.js": "vendor",
	}
	s := newSite(t)
	t1 := time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)

	events := s.publish(t, t1, v1)
	assert.Equal(t, v1, s.objects(t))
	for key := range v1 {
		want := noCache
		if strings.HasPrefix(key, "assets/") {
			want = immutable
		}
		assert.Equal(t, want, s.headers(t, key)[0], key)
	}
	assert.Equal(t, []string{noCache, "text/html; charset=utf-8"}, s.headers(t, "index.html"))
	for _, asset := range []string{"assets/app-1a.js", "assets/app-1a.css", "assets/vendor-9f.js"} {
		before(t, events, "put "+asset, "put index.html")
	}
	assert.Equal(t, "put index.html", events[len(events)-2], "index.html is the last upload")
	assert.ElementsMatch(t, []string{"/", "/index.html", "/favicon.ico", "/offline.html", "/locales/es.json"},
		strings.Fields(strings.TrimPrefix(events[len(events)-1], "invalidate ")), "the entry points, never the hashed assets")

	// The same day: v1's hashed assets stay beside v2's, marked; offline.html, an entry point v2
	// lacks, goes at once, after index.html.
	t2 := t1.Add(time.Hour)
	events = s.publish(t, t2, v2)
	v2WithV1 := with(v2, map[string]string{
		"assets/app-1a.js": "app v1", "assets/app-1a.css": "css v1",
		marker(t2, "assets/app-1a.js"): "", marker(t2, "assets/app-1a.css"): "",
	})
	assert.Equal(t, v2WithV1, s.objects(t))
	before(t, events, "put index.html", "delete offline.html")
	before(t, events, "put index.html", "put "+marker(t2, "assets/app-1a.js"))

	// Publishing v2 again within the day keeps v1's assets and the time they were superseded.
	s.publish(t, t2.Add(23*time.Hour), v2)
	assert.Equal(t, v2WithV1, s.objects(t))

	// More than a day after v2: v1's assets and markers go, v2's are kept and marked.
	t3 := t2.Add(24*time.Hour + time.Minute)
	s.publish(t, t3, v3)
	assert.Equal(t, with(v3, map[string]string{
		"assets/app-2b.js": "app v2", "assets/app-2b.css": "css v2",
		marker(t3, "assets/app-2b.js"): "", marker(t3, "assets/app-2b.css"): "",
	}), s.objects(t))

	// Rolling back to v2 a minute later: its assets lose their markers (a later publish must not
	// delete them), v3's are kept for a day.
	t4 := t3.Add(time.Minute)
	s.publish(t, t4, v2)
	assert.Equal(t, with(v2, map[string]string{"assets/app-3c.js": "app v3", marker(t4, "assets/app-3c.js"): ""}), s.objects(t))
	assert.Equal(t, immutable, s.headers(t, "assets/app-2b.js")[0])
}
