package trinotest

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Access-control modes of Options.AccessControl.
const (
	// AccessOPA sends every authorization check to Warden, through Trino's
	// OPA plugin.
	AccessOPA = "opa"
	// AccessAllowAll allows everything: baselines without Warden.
	AccessAllowAll = "allow-all"
)

// Decision paths below Options.WardenURL, as deploy/trino configures them.
const (
	PathAllow       = "/v1/data/trino/allow"
	PathBatch       = "/v1/data/trino/batch"
	PathRowFilters  = "/v1/data/trino/rowFilters"
	PathColumnMasks = "/v1/data/trino/batchColumnMasks"
)

// validate checks the options and fills in defaults.
func (o *Options) validate() error {
	if o.AccessControl == "" {
		o.AccessControl = AccessOPA
	}
	var errs []error
	switch o.AccessControl {
	case AccessOPA:
		if o.WardenURL == "" {
			errs = append(errs, errors.New("AccessControl opa needs WardenURL"))
		}
	case AccessAllowAll:
	default:
		errs = append(errs, fmt.Errorf("AccessControl must be %q or %q, got %q", AccessOPA, AccessAllowAll, o.AccessControl))
	}
	if o.AdminUser == "" {
		o.AdminUser = "admin"
	}
	if len(o.Users) > 0 && o.Users[o.AdminUser] == "" {
		errs = append(errs, fmt.Errorf("with password authentication, Users needs a password for AdminUser %q, which checks readiness", o.AdminUser))
	}
	if o.Heap == "" {
		o.Heap = "2G"
	}
	for group, users := range o.Groups {
		if group == "" || strings.ContainsAny(group, ":,\n") {
			errs = append(errs, fmt.Errorf("group name %q: must be non-empty without ':', ',' or newlines", group))
		}
		for _, u := range users {
			if u == "" || strings.ContainsAny(u, ":,\n") {
				errs = append(errs, fmt.Errorf("group %q member %q: must be non-empty without ':', ',' or newlines", group, u))
			}
		}
	}
	for user := range o.Users {
		if user == "" || strings.ContainsAny(user, ":\n") {
			errs = append(errs, fmt.Errorf("user name %q: must be non-empty without ':' or newlines", user))
		}
	}
	return errors.Join(errs...)
}

// writeConfig writes the instance's etc/ directory: the node,
// JVM, server, catalog, access-control, group-provider, password and
// event-listener files.
func (t *Trino) writeConfig() error {
	o := t.opts
	etc := filepath.Join(t.dir, "etc")
	if err := os.MkdirAll(filepath.Join(etc, "catalog"), 0o755); err != nil {
		return err
	}
	hostPort := "127.0.0.1:" + strconv.Itoa(t.port)
	cfg := map[string]string{
		"coordinator":                        "true",
		"node-scheduler.include-coordinator": "true",
		"http-server.http.port":              strconv.Itoa(t.port),
		"discovery.uri":                      "http://" + hostPort,
		"plugin.dir":                         filepath.Join(t.server, "plugin"),
		"catalog.config-dir":                 filepath.Join(etc, "catalog"),
		"access-control.config-files":        filepath.Join(etc, "access-control.properties"),
		"query.max-memory":                   "1GB",
		"query.max-memory-per-node":          "512MB",
		"task.concurrency":                   "2",
		"http-server.log.enabled":            "false",
		"query.client.timeout":               "5m",
		"shutdown.grace-period":              "1s",
		"query.min-expire-age":               "1m",
		"failure-detector.enabled":           "false",
	}
	if len(o.Users) > 0 {
		pemPath := filepath.Join(etc, "https.pem")
		roots, err := writeCertificate(pemPath)
		if err != nil {
			return err
		}
		t.roots = roots
		cfg["http-server.authentication.type"] = "PASSWORD"
		cfg["http-server.https.enabled"] = "true"
		cfg["http-server.https.port"] = strconv.Itoa(t.httpsPort)
		cfg["http-server.https.keystore.path"] = pemPath
		// Authentication on needs a secret for node-to-node requests.
		cfg["internal-communication.shared-secret"] = "trinotest-" + filepath.Base(t.dir) + "-" + strconv.Itoa(t.port)
		cfg["password-authenticator.config-files"] = filepath.Join(etc, "password-authenticator.properties")
		if err := writePasswords(filepath.Join(etc, "password.db"), o.Users); err != nil {
			return err
		}
		if err := writeProperties(filepath.Join(etc, "password-authenticator.properties"), map[string]string{
			"password-authenticator.name": "file",
			"file.password-file":          filepath.Join(etc, "password.db"),
		}); err != nil {
			return err
		}
	}
	if o.EventListenerURL != "" {
		cfg["event-listener.config-files"] = filepath.Join(etc, "http-event-listener.properties")
		props := map[string]string{
			"event-listener.name":                    "http",
			"http-event-listener.log-created":        "true",
			"http-event-listener.log-completed":      "true",
			"http-event-listener.log-split":          "false",
			"http-event-listener.connect-ingest-uri": o.EventListenerURL,
		}
		for k, v := range o.EventListener {
			if !strings.HasPrefix(k, "http-event-listener.") {
				k = "http-event-listener." + k
			}
			props[k] = v
		}
		if err := writeProperties(filepath.Join(etc, "http-event-listener.properties"), props); err != nil {
			return err
		}
	}
	maps.Copy(cfg, o.ConfigProperties)
	if err := writeProperties(filepath.Join(etc, "node.properties"), t.nodeProperties()); err != nil {
		return err
	}
	if err := writeProperties(filepath.Join(etc, "config.properties"), cfg); err != nil {
		return err
	}
	if err := writeProperties(filepath.Join(etc, "log.properties"), map[string]string{
		"io.trino":          "INFO",
		"Bootstrap":         "WARN",
		"io.airlift":        "WARN",
		"org.eclipse.jetty": "WARN",
	}); err != nil {
		return err
	}
	catalogs := map[string]map[string]string{
		"memory": {"connector.name": "memory", "memory.max-data-per-node": "256MB"},
		"tpch":   {"connector.name": "tpch", "tpch.splits-per-node": "2"},
	}
	maps.Copy(catalogs, o.Catalogs)
	for name, props := range catalogs {
		if err := writeProperties(filepath.Join(etc, "catalog", name+".properties"), props); err != nil {
			return err
		}
	}
	if err := writeProperties(filepath.Join(etc, "access-control.properties"), accessControl(o)); err != nil {
		return err
	}
	// Trino reads etc/group-provider.properties from its working directory,
	// the instance directory.
	if err := writeGroups(filepath.Join(etc, "groups.txt"), o.Groups); err != nil {
		return err
	}
	if err := writeProperties(filepath.Join(etc, "group-provider.properties"), map[string]string{
		"group-provider.name": "file",
		"file.group-file":     filepath.Join(etc, "groups.txt"),
	}); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(etc, "jvm.config"), []byte(strings.Join(t.jvmArgs(), "\n")+"\n"), 0o644)
}

// nodeProperties are node.properties; the JVM gets them as system
// properties, as Trino's launcher passes them.
func (t *Trino) nodeProperties() map[string]string {
	return map[string]string{
		"node.environment":      "warden_test",
		"node.id":               "trinotest-" + filepath.Base(t.dir),
		"node.data-dir":         filepath.Join(t.dir, "data"),
		"node.bind-ip":          "127.0.0.1",
		"node.internal-address": "127.0.0.1",
	}
}

// accessControl returns access-control.properties for the options.
func accessControl(o Options) map[string]string {
	if o.AccessControl == AccessAllowAll {
		return map[string]string{"access-control.name": "allow-all"}
	}
	base := strings.TrimRight(o.WardenURL, "/")
	props := map[string]string{
		"access-control.name":                        "opa",
		"opa.policy.uri":                             base + PathAllow,
		"opa.policy.batched-uri":                     base + PathBatch,
		"opa.policy.row-filters-uri":                 base + PathRowFilters,
		"opa.policy.batch-column-masking-uri":        base + PathColumnMasks,
		"opa.allow-permission-management-operations": "false",
	}
	for k, v := range o.OPAHTTPClient {
		if !strings.HasPrefix(k, "opa.http-client.") {
			k = "opa.http-client." + k
		}
		props[k] = v
	}
	return props
}

// jvmArgs are the JVM's options: a modest heap and the flags Trino
// recommends, without the ones that only matter under load.
func (t *Trino) jvmArgs() []string {
	return []string{
		"-Xmx" + t.opts.Heap,
		"-XX:+UseG1GC",
		"-XX:+ExitOnOutOfMemoryError",
		"-XX:-OmitStackTraceInFastThrow",
		"-XX:ReservedCodeCacheSize=256M",
		"-Xss2M",
		"-Djdk.attach.allowAttachSelf=true",
		"-Djdk.nio.maxCachedBufferSize=2000000",
		"-Dfile.encoding=UTF-8",
		"-Duser.timezone=UTC",
		"-XX:+EnableDynamicAgentLoading",
		"--enable-native-access=ALL-UNNAMED",
		"--sun-misc-unsafe-memory-access=allow",
	}
}

// writeProperties writes a Java properties file, keys sorted.
func writeProperties(path string, props map[string]string) error {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(props)) {
		v := props[k]
		if strings.ContainsAny(k+v, "\n\r") {
			return fmt.Errorf("%s: property %q has a line break", path, k)
		}
		b.WriteString(escapeProperty(k, true))
		b.WriteByte('=')
		b.WriteString(escapeProperty(v, false))
		b.WriteByte('\n')
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

// escapeProperty escapes backslashes, and in keys the separators.
func escapeProperty(s string, key bool) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	if key {
		s = strings.NewReplacer("=", `\=`, ":", `\:`, " ", `\ `).Replace(s)
	}
	return s
}

// ReadGroups reads a file group provider's file, "group:user,user" lines
// (blank lines and # comments skipped), into the form Options.Groups takes.
func ReadGroups(path string) (map[string][]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	groups := map[string][]string{}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		group, users, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%s: %q is not group:user,…", path, line)
		}
		groups[group] = append(groups[group], strings.Split(users, ",")...)
	}
	return groups, nil
}

// writeGroups writes the file group provider's file: one "group:user,…"
// line per group.
func writeGroups(path string, groups map[string][]string) error {
	var b strings.Builder
	for _, g := range slices.Sorted(maps.Keys(groups)) {
		b.WriteString(g + ":" + strings.Join(groups[g], ",") + "\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

// writePasswords writes the file password authenticator's file: one
// "user:bcrypt-hash" line per user, at bcrypt's lowest cost Trino accepts.
func writePasswords(path string, users map[string]string) error {
	var b strings.Builder
	for _, u := range slices.Sorted(maps.Keys(users)) {
		h, err := bcrypt.GenerateFromPassword([]byte(users[u]), minBcryptCost)
		if err != nil {
			return fmt.Errorf("hash the password of %q: %w", u, err)
		}
		b.WriteString(u + ":" + string(h) + "\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

// minBcryptCost is the lowest bcrypt cost Trino's file authenticator takes.
const minBcryptCost = 8
