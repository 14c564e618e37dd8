package compute_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/canalco/infra/compute"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// postgres is a throwaway PostgreSQL cluster in a temporary folder, reached through a Unix
// socket there only.
type postgres struct {
	bin, dir string
	// asOwner runs the server's commands as an unprivileged user when the tests run as root
	// (initdb and pg_ctl refuse root).
	asOwner []string
}

func startPostgres(t *testing.T) *postgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Skip("PostgreSQL is not installed (scripts/test-deps.sh installs Debian's postgresql)")
	}
	sort.Strings(bins)
	dir, err := os.MkdirTemp("", "canalco-pg-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	pg := &postgres{bin: filepath.Dir(bins[len(bins)-1]), dir: dir}
	if os.Geteuid() == 0 {
		require.NoError(t, os.Chmod(dir, 0o755))
		require.NoError(t, exec.Command("chown", "nobody", dir).Run())
		pg.asOwner = []string{"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"}
	}
	server := func(args ...string) {
		cmd := append(append([]string{}, pg.asOwner...), args...)
		out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput()
		require.NoError(t, err, "%v: %s", args, out)
	}
	data := filepath.Join(dir, "data")
	server(filepath.Join(pg.bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--no-sync")
	server(filepath.Join(pg.bin, "pg_ctl"), "-D", data, "-w", "-l", filepath.Join(dir, "log"),
		"-o", "-c listen_addresses='' -k "+dir+" -c fsync=off", "start")
	t.Cleanup(func() {
		cmd := append(append([]string{}, pg.asOwner...), filepath.Join(pg.bin, "pg_ctl"), "-D", data, "-m", "immediate", "stop")
		_ = exec.Command(cmd[0], cmd[1:]...).Run()
	})
	return pg
}

// psql runs SQL as a user and returns psql's unaligned output.
func (pg *postgres) psql(user, db string, args ...string) (string, error) {
	cmd := exec.Command("psql", append([]string{"-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", pg.dir, "-U", user, "-d", db}, args...)...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (pg *postgres) must(t *testing.T, user, db, sql string) string {
	t.Helper()
	out, err := pg.psql(user, db, "-c", sql)
	require.NoError(t, err, "%s: %s", sql, out)
	return out
}

// The migration step's role SQL on a real PostgreSQL, set up as RDS sets up an instance: a
// master user that is not a superuser but may create roles and hands out rds_iam, owning the
// database. Run twice (every release runs it), it leaves the backend's role able to read and
// write every table, those created later by the migrations too, and unable to change the schema.
func TestAppRoleSQLOnPostgres(t *testing.T) {
	sql, err := os.ReadFile("approle.sql")
	require.NoError(t, err)
	assert.Contains(t, userData(t, load(t, "prod").lt), "<<'SQL'\n"+string(sql)+"SQL\n", "the migration step runs this file verbatim")

	pg := startPostgres(t)
	const master, app, db = "canalco_admin", compute.AppDatabaseUser, "canalco"
	for _, stmt := range []string{
		"CREATE ROLE rds_iam", // RDS's own role; a plain role here
		"CREATE ROLE " + master + " LOGIN CREATEROLE CREATEDB",
		"GRANT rds_iam TO " + master + " WITH ADMIN OPTION",
		"CREATE DATABASE " + db + " OWNER " + master,
	} {
		pg.must(t, "postgres", "postgres", stmt)
	}
	pg.must(t, master, db, "CREATE TABLE cotizaciones (id serial PRIMARY KEY, cliente text)")
	for run := 1; run <= 2; run++ {
		out, err := pg.psql(master, db, "--no-psqlrc", "-v", "app_user="+app, "-v", "database="+db, "-f", "approle.sql")
		require.NoError(t, err, "run %d: %s", run, out)
	}
	// A migration after the grants, as the master user.
	pg.must(t, master, db, "CREATE TABLE facturas (id bigserial PRIMARY KEY, total numeric)")

	assert.Equal(t, "t|f|f|f", pg.must(t, "postgres", db,
		"SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = '"+app+"'"))
	assert.Equal(t, "t", pg.must(t, "postgres", db, "SELECT pg_has_role('"+app+"', 'rds_iam', 'MEMBER')"), "signs in with IAM tokens")
	assert.Empty(t, pg.must(t, "postgres", db, "SELECT rolpassword FROM pg_authid WHERE rolname = '"+app+"'"), "no password")
	assert.Equal(t, "1", pg.must(t, "postgres", db, "SELECT count(*) FROM pg_roles WHERE rolname = '"+app+"'"))

	for _, table := range []string{"cotizaciones", "facturas"} {
		col := map[string]string{"cotizaciones": "cliente", "facturas": "total"}[table]
		val := map[string]string{"cotizaciones": "'acme'", "facturas": "10"}[table]
		pg.must(t, app, db, "INSERT INTO "+table+" ("+col+") VALUES ("+val+")")
		pg.must(t, app, db, "UPDATE "+table+" SET "+col+" = "+val)
		assert.Equal(t, "1", pg.must(t, app, db, "SELECT count(*) FROM "+table))
		pg.must(t, app, db, "DELETE FROM "+table)
	}
	for _, denied := range []string{
		"CREATE TABLE x (id int)",
		"DROP TABLE facturas",
		"ALTER TABLE cotizaciones ADD COLUMN y int",
		"TRUNCATE facturas",
		"CREATE ROLE intruder",
	} {
		out, err := pg.psql(app, db, "-c", denied)
		assert.Error(t, err, "the backend's role may not: %s", denied)
		assert.Regexp(t, `permission denied|must be owner`, out, denied)
	}
}
