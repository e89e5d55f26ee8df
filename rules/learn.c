/*
 * learn.c: rules from observed traffic, and issuers remembered across runs.
 *
 * Distrusts: the names and certificates (wire bytes: a name that cannot be
 * written safely into a rules file is skipped and counted) and the state
 * file (read strictly, line by line, bounded).  Owns: its tables.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpsl.h>
#include <openssl/evp.h>

#include "../parser/hashtab.h"
#include "learn.h"
#include "rules.h"

#define NAME_MAX_LEN 253
#define TOFU_DN_MAX 1024		/* issuer bytes the state keeps as they are */


static const psl_ctx_t *psl;

bool
regdomain_init(void)
{
	if (psl == NULL)
		psl = psl_latest(NULL);		/* the publicsuffix package's list, else built in */
	if (psl == NULL)
		psl = psl_builtin();
	return psl != NULL;
}

/*
 * A last label of digits is an IPv4 address, not a name: the list's "*"
 * rule would make "1.1" of 192.168.1.1.
 */
static bool
last_label_numeric(const char *name)
{
	const char *dot = strrchr(name, '.');
	const char *label = dot != NULL ? dot + 1 : name;

	return strspn(label, "0123456789") == strlen(label);
}

bool
regdomain(const char *name, size_t len, char *out, size_t outsz)
{
	char low[NAME_MAX_LEN + 2];
	const char *rd;

	if (len == 0 || len > NAME_MAX_LEN || !regdomain_init())
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!(isalnum(c) || c == '-' || c == '.' || c == '_'))
			return false;
		low[i] = (char)tolower(c);
	}
	if (low[len - 1] == '.')		/* one trailing dot is the same name */
		len--;
	low[len] = '\0';
	if (len == 0 || last_label_numeric(low))
		return false;
	rd = psl_registrable_domain(psl, low);
	if (rd == NULL || strlen(rd) + 1 > outsz)
		return false;
	memcpy(out, rd, strlen(rd) + 1);
	return true;
}

/* --- learning ---------------------------------------------------------------- */

struct seen_issuer {
	char *line;			/* "C=US, O=..., CN=..." as a rules issuer line */
	uint64_t n;
	int64_t first, last;
};

struct seen_pin {
	char pin[48];
	char *ca;			/* the issuing CA's subject, for the comment */
	uint64_t n;
};

struct seen_fp {
	char ja3s[33];
	char *text;			/* the JA3S string */
	uint16_t version;
	uint64_t n;
};

/* Per registered domain; the lists grow to LEARN_PER_DOMAIN_MAX. */
struct ldomain {
	UT_hash_handle hh;
	uint64_t n, n_validated, n_lower;
	int64_t first, last;
	struct seen_issuer *iss;
	struct seen_pin *pins;
	struct seen_fp *fps;
	unsigned n_iss, cap_iss, n_pins, cap_pins, n_fps, cap_fps;
	char name[];
};

/* Room for one more of n elements in *arr (capacity *cap); false: no more. */
static bool
grow(void *arr, unsigned *cap, unsigned n, size_t elem)
{
	void **p = arr;
	unsigned ncap;
	void *g;

	if (n < *cap)
		return true;
	if (n >= LEARN_PER_DOMAIN_MAX)
		return false;
	ncap = *cap ? *cap * 2 : 1;
	if (ncap > LEARN_PER_DOMAIN_MAX)
		ncap = LEARN_PER_DOMAIN_MAX;
	if ((g = realloc(*p, (size_t)ncap * elem)) == NULL)
		return false;
	*p = g;
	*cap = ncap;
	return true;
}

struct learn {
	struct ldomain *table;
	struct learn_stats st;
};

struct learn *
learn_new(void)
{
	regdomain_init();
	return calloc(1, sizeof(struct learn));
}

void
learn_free(struct learn *l)
{
	struct ldomain *d, *tmp;

	if (l == NULL)
		return;
	HASH_ITER(hh, l->table, d, tmp) {
		HASH_DEL(l->table, d);	/* NOLINT(clang-analyzer-unix.Malloc): see rules.c */
		for (unsigned i = 0; i < d->n_iss; i++)
			free(d->iss[i].line);
		for (unsigned i = 0; i < d->n_pins; i++)
			free(d->pins[i].ca);
		for (unsigned i = 0; i < d->n_fps; i++)
			free(d->fps[i].text);
		free(d->iss);
		free(d->pins);
		free(d->fps);
		free(d);
	}
	free(l);
}

/*
 * An issuer name as a rules-file issuer line: every attribute (the rules
 * match them in any order), with the glob characters, commas and '#' escaped.
 * NULL when a value holds bytes a text line cannot carry.
 */
static char *
issuer_line(const struct cert_info *leaf)
{
	size_t cap = 64, n = 0;
	char *s = malloc(cap);

	if (s == NULL)
		return NULL;
	/* a rules issuer line holds RULES_CONSTRAINTS_MAX terms: the first ones
	 * (most significant) still pin the issuer */
	for (size_t i = 0; i < leaf->n_issuer_attrs && i < RULES_CONSTRAINTS_MAX; i++) {
		const struct cert_attr *a = &leaf->issuer_attrs[i];
		size_t need = strlen(a->name) + 2 * a->value.len + 4;
		if (n + need + 1 > cap) {
			char *g;
			while (n + need + 1 > cap)
				cap *= 2;
			if ((g = realloc(s, cap)) == NULL)
				goto fail;
			s = g;
		}
		n += (size_t)snprintf(s + n, cap - n, "%s%s=", i ? ", " : "", a->name);
		for (size_t k = 0; k < a->value.len; k++) {
			unsigned char c = (unsigned char)a->value.p[k];
			if (c < 0x20 || c == 0x7f)
				goto fail;
			if (c == '*' || c == '?' || c == '\\' || c == ',' || c == '#')
				s[n++] = '\\';
			s[n++] = (char)c;
		}
		s[n] = '\0';
	}
	if (n == 0)
		goto fail;
	return s;
fail:
	free(s);
	return NULL;
}

static struct ldomain *
domain_of(struct learn *l, const struct learn_sample *sm)
{
	char name[NAME_MAX_LEN + 1];
	struct ldomain *d = NULL;

	if (sm->name == NULL || !regdomain(sm->name, sm->name_len, name, sizeof(name)))
		return NULL;
	HASH_FIND_STR(l->table, name, d);
	if (d != NULL)
		return d;
	if (l->st.n_domains >= LEARN_DOMAINS_MAX ||
	    (d = calloc(1, sizeof(*d) + strlen(name) + 1)) == NULL)
		return NULL;
	memcpy(d->name, name, strlen(name) + 1);
	d->first = sm->ts_s;
	hashtab_oom = 0;
	HASH_ADD_STR(l->table, name, d);
	if (hashtab_oom) {
		free(d);
		return NULL;
	}
	l->st.n_domains++;
	return d;
}

static void
note_issuer(struct ldomain *d, const struct learn_sample *sm)
{
	char *line = issuer_line(sm->leaf);
	unsigned i;

	if (line == NULL)
		return;
	for (i = 0; i < d->n_iss && strcmp(d->iss[i].line, line) != 0; i++)
		;
	if (i == d->n_iss) {
		if (!grow(&d->iss, &d->cap_iss, d->n_iss, sizeof(*d->iss))) {
			free(line);
			return;
		}
		d->iss[d->n_iss++] = (struct seen_issuer){ .line = line, .first = sm->ts_s };
	} else {
		free(line);
	}
	d->iss[i].n++;
	d->iss[i].last = sm->ts_s;
}

static void
note_pin(struct ldomain *d, const struct learn_sample *sm)
{
	unsigned i;

	if (sm->ca == NULL || !sm->ca->decoded || sm->ca->spki_pin[0] == '\0')
		return;
	for (i = 0; i < d->n_pins && strcmp(d->pins[i].pin, sm->ca->spki_pin) != 0; i++)
		;
	if (i == d->n_pins) {
		if (!grow(&d->pins, &d->cap_pins, d->n_pins, sizeof(*d->pins)))
			return;
		d->pins[i] = (struct seen_pin){ .ca = strdup(sm->ca->subject) };
		snprintf(d->pins[i].pin, sizeof(d->pins[i].pin), "%s", sm->ca->spki_pin);
		d->n_pins++;
	}
	d->pins[i].n++;
}

static void
note_fp(struct ldomain *d, const struct learn_sample *sm)
{
	unsigned i;

	if (sm->ja3s == NULL)
		return;
	for (i = 0; i < d->n_fps && strcmp(d->fps[i].ja3s, sm->ja3s) != 0; i++)
		;
	if (i == d->n_fps) {
		if (!grow(&d->fps, &d->cap_fps, d->n_fps, sizeof(*d->fps)))
			return;
		d->fps[i] = (struct seen_fp){ .version = sm->version,
		    .text = sm->ja3s_string ? strdup(sm->ja3s_string) : NULL };
		snprintf(d->fps[i].ja3s, sizeof(d->fps[i].ja3s), "%s", sm->ja3s);
		d->n_fps++;
	}
	d->fps[i].n++;
}

void
learn_add(struct learn *l, const struct learn_sample *sm)
{
	struct ldomain *d = domain_of(l, sm);

	l->st.n_samples++;
	if (d == NULL) {
		l->st.n_dropped++;
		return;
	}
	d->n++;
	d->last = sm->ts_s;
	if (sm->client_offered_more)
		d->n_lower++;
	note_fp(d, sm);
	if (sm->leaf == NULL || !sm->leaf->decoded || !sm->validated)
		return;			/* only chains that validated teach issuers */
	l->st.n_validated++;
	d->n_validated++;
	note_issuer(d, sm);
	note_pin(d, sm);
}

static void
iso(int64_t s, char *out, size_t outsz)
{
	time_t t = (time_t)s;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, outsz, "?");
}

static int
cmp_domain(const void *a, const void *b)
{
	return strcmp((*(struct ldomain *const *)a)->name, (*(struct ldomain *const *)b)->name);
}

static const char *
handshakes(uint64_t n)
{
	return n == 1 ? "handshake" : "handshakes";
}

static void
write_domain(const struct ldomain *d, FILE *out)
{
	char a[32], b[32];

	iso(d->first, a, sizeof(a));
	iso(d->last, b, sizeof(b));
	fprintf(out, "\n# %llu %s (%llu validated), %s to %s\n", (unsigned long long)d->n,
	    handshakes(d->n), (unsigned long long)d->n_validated, a, b);
	fprintf(out, "[%s]\ndomains = %s *.%s\n", d->name, d->name, d->name);
	for (unsigned i = 0; i < d->n_iss; i++) {
		iso(d->iss[i].first, a, sizeof(a));
		iso(d->iss[i].last, b, sizeof(b));
		fprintf(out, "# %llu %s, %s to %s\nissuer = %s\n", (unsigned long long)d->iss[i].n,
		    handshakes(d->iss[i].n), a, b, d->iss[i].line);
	}
	for (unsigned i = 0; i < d->n_pins; i++)
		fprintf(out, "# the issuing CA %s, %llu %s\npin-sha256 = %s\n",
		    d->pins[i].ca ? d->pins[i].ca : "?", (unsigned long long)d->pins[i].n,
		    handshakes(d->pins[i].n), d->pins[i].pin);
	for (unsigned i = 0; i < d->n_fps; i++)
		fprintf(out, "# ServerHello %s (%llu %s)\nserver-ja3s = %s\n",
		    d->fps[i].text ? d->fps[i].text : "?", (unsigned long long)d->fps[i].n,
		    handshakes(d->fps[i].n), d->fps[i].ja3s);
	/* only a domain whose servers always choose less is spared the check: one
	 * old server must not blind it to a downgrade of the others */
	if (d->n_lower > 0 && d->n_lower == d->n)
		fprintf(out, "# in every handshake (%llu) the server chose a lower version than the "
		    "client offered:\n# that is how these servers are, not a downgrade\n"
		    "ignore = downgrade\n", (unsigned long long)d->n_lower);
	else if (d->n_lower > 0)
		fprintf(out, "# in %llu of %llu handshakes the server chose a lower version than the "
		    "client offered;\n# if that is how some of these servers are: ignore = downgrade\n",
		    (unsigned long long)d->n_lower, (unsigned long long)d->n);
}

void
learn_write(const struct learn *l, FILE *out, const char *sources)
{
	struct ldomain **all, *d, *tmp;
	size_t n = 0, k = 0;

	fprintf(out, "# Written by tlsentry learn from %s.\n", sources);
	fprintf(out, "# %llu %s, %llu with a chain that validated, %llu registered "
	    "domain%s%s.\n# Review it: every block below accepts what was seen, and only that.\n",
	    (unsigned long long)l->st.n_samples, handshakes(l->st.n_samples),
	    (unsigned long long)l->st.n_validated, (unsigned long long)l->st.n_domains,
	    l->st.n_domains == 1 ? "" : "s",
	    l->st.n_dropped ? " (handshakes without a usable name left out)" : "");
	HASH_ITER(hh, l->table, d, tmp)
		n++;
	all = calloc(n ? n : 1, sizeof(struct ldomain *));
	if (all == NULL)
		return;
	HASH_ITER(hh, l->table, d, tmp)
		all[k++] = d;
	qsort(all, n, sizeof(struct ldomain *), cmp_domain);
	for (size_t i = 0; i < n; i++) {
		/* a block must check something: a domain only seen with unvalidated or
		 * hidden certificates and no fingerprint has nothing to say */
		if (all[i]->n_iss == 0 && all[i]->n_pins == 0 && all[i]->n_fps == 0)
			continue;
		write_domain(all[i], out);
	}
	free(all);
}

void
learn_stats(const struct learn *l, struct learn_stats *out)
{
	*out = l->st;
}

/* --- trust on first use ----------------------------------------------------- */

struct tissuer {
	char *dn;
	int64_t first, last;
	uint64_t n;
};

/* Small: a sensor keeps one for every domain it sees, for weeks. */
struct tdomain {
	UT_hash_handle hh;
	struct tissuer *iss;		/* grows to LEARN_PER_DOMAIN_MAX */
	unsigned n_iss, cap_iss;
	char name[];
};

struct tofu {
	struct tdomain *table;
	struct tofu_stats st;
};

void
tofu_stats(const struct tofu *t, struct tofu_stats *out)
{
	*out = t->st;
}

void
tofu_free(struct tofu *t)
{
	struct tdomain *d, *tmp;

	if (t == NULL)
		return;
	HASH_ITER(hh, t->table, d, tmp) {
		HASH_DEL(t->table, d);	/* NOLINT(clang-analyzer-unix.Malloc): see rules.c */
		for (unsigned i = 0; i < d->n_iss; i++)
			free(d->iss[i].dn);
		free(d->iss);
		free(d);
	}
	free(t);
}

static struct tdomain *
tdomain_get(struct tofu *t, const char *name, bool create)
{
	struct tdomain *d = NULL;

	HASH_FIND_STR(t->table, name, d);
	if (d != NULL || !create || strlen(name) > NAME_MAX_LEN)
		return d;
	if (t->st.n_domains >= LEARN_DOMAINS_MAX ||
	    (d = calloc(1, sizeof(*d) + strlen(name) + 1)) == NULL) {
		t->st.n_refused++;
		return NULL;
	}
	memcpy(d->name, name, strlen(name) + 1);
	hashtab_oom = 0;
	HASH_ADD_STR(t->table, name, d);
	if (hashtab_oom) {
		free(d);
		t->st.n_refused++;
		return NULL;
	}
	t->st.n_domains++;
	return d;
}

/* Remember (domain, issuer); -1 when a cap refused it. */
static int
remember(struct tofu *t, const char *domain, const char *dn, int64_t first, int64_t last,
    uint64_t n, bool *was_new_issuer)
{
	struct tdomain *d = tdomain_get(t, domain, true);
	unsigned i;

	*was_new_issuer = false;
	if (d == NULL)
		return -1;
	for (i = 0; i < d->n_iss && strcmp(d->iss[i].dn, dn) != 0; i++)
		;
	if (i == d->n_iss) {
		if (d->n_iss == LEARN_PER_DOMAIN_MAX) {
			t->st.n_refused++;
			return -1;
		}
		if (d->n_iss == d->cap_iss) {
			unsigned ncap = d->cap_iss ? d->cap_iss * 2 : 1;
			struct tissuer *g = realloc(d->iss, ncap * sizeof(*g));
			if (g == NULL)
				return -1;
			d->iss = g;
			d->cap_iss = ncap;
		}
		d->iss[i] = (struct tissuer){ .dn = strdup(dn) };
		if (d->iss[i].dn == NULL)
			return -1;
		*was_new_issuer = d->n_iss > 0;	/* the first issuer is trusted on first use */
		d->iss[i].first = first;
		d->n_iss++;
	}
	d->iss[i].last = last > d->iss[i].last ? last : d->iss[i].last;
	d->iss[i].n += n;
	return 0;
}

/*
 * The issuer as the state keeps it: a name from the wire can be kilobytes,
 * and a state line that cannot be read back would stop the next start.
 * Over TOFU_DN_MAX bytes, its start and the SHA-256 of the whole.
 */
static const char *
issuer_key(const char *dn, char *buf, size_t bufsz)
{
	unsigned char md[32];
	size_t n;

	if (strlen(dn) <= TOFU_DN_MAX)
		return dn;
	if (EVP_Digest(dn, strlen(dn), md, NULL, EVP_sha256(), NULL) != 1)
		memset(md, 0, sizeof(md));
	n = (size_t)snprintf(buf, bufsz, "%.*s... sha256:", TOFU_DN_MAX - 80, dn);
	for (size_t i = 0; i < sizeof(md) && n + 3 <= bufsz; i++, n += 2)
		snprintf(buf + n, bufsz - n, "%02x", md[i]);
	return buf;
}

bool
tofu_observe(struct tofu *t, const char *domain, const char *issuer, bool keep, int64_t ts_s)
{
	struct tdomain *d;
	bool is_new = false;
	char key[TOFU_DN_MAX + 1];

	if (t == NULL || domain == NULL || issuer == NULL)
		return false;
	issuer = issuer_key(issuer, key, sizeof(key));
	if (keep && remember(t, domain, issuer, ts_s, ts_s, 1, &is_new) == 0) {
		t->st.n_new_issuers += is_new;
		return is_new;
	}
	/* a chain that did not validate (or an issuer over the caps) is
	 * compared, never remembered */
	if ((d = tdomain_get(t, domain, false)) == NULL || d->n_iss == 0)
		return false;
	for (unsigned i = 0; i < d->n_iss; i++)
		if (strcmp(d->iss[i].dn, issuer) == 0)
			return false;
	t->st.n_new_issuers++;
	return true;
}

/*
 * The state file: "# tlsentry state 1" then one line per (domain, issuer):
 * domain TAB first TAB last TAB count TAB issuer (RFC 2253; no tab or
 * newline can be in it: such names are never stored).
 */
struct tofu *
tofu_load(const char *path, char *err, size_t errsz)
{
	struct tofu *t = calloc(1, sizeof(*t));
	FILE *fp;
	char line[8192];
	unsigned lineno = 0;

	if (t == NULL) {
		snprintf(err, errsz, "%s: out of memory", path);
		return NULL;
	}
	fp = fopen(path, "r");
	if (fp == NULL) {
		if (errno == ENOENT)
			return t;		/* the first run */
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		tofu_free(t);
		return NULL;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char dom[NAME_MAX_LEN + 2], *dn;
		long long first, last;
		unsigned long long n;
		int used = 0;
		bool ignored;

		lineno++;
		if (lineno == 1 && strncmp(line, "# tlsentry state 1", 18) != 0) {
			snprintf(err, errsz, "%s: not a tlsentry state file", path);
			goto fail;
		}
		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%254[^\t]\t%lld\t%lld\t%llu\t%n", dom, &first, &last, &n, &used) != 4 ||
		    used == 0 || line[used] == '\0') {
			snprintf(err, errsz, "%s:%u: not a state line", path, lineno);
			goto fail;
		}
		dn = line + used;
		if (remember(t, dom, dn, first, last, n, &ignored) != 0) {
			snprintf(err, errsz, "%s:%u: over the caps (%d domains, %d issuers each)", path,
			    lineno, LEARN_DOMAINS_MAX, LEARN_PER_DOMAIN_MAX);
			goto fail;
		}
	}
	if (ferror(fp)) {
		snprintf(err, errsz, "%s: read error", path);
		goto fail;
	}
	fclose(fp);
	return t;
fail:
	fclose(fp);
	tofu_free(t);
	return NULL;
}

int
tofu_save(const struct tofu *t, const char *path, char *err, size_t errsz)
{
	char tmp[4096];
	const struct tdomain *d, *x;
	FILE *fp;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errsz, "%s: path too long", path);
		return -1;
	}
	fp = fopen(tmp, "w");
	if (fp == NULL) {
		snprintf(err, errsz, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	fputs("# tlsentry state 1: domain, first and last seen, handshakes, issuer\n", fp);
	HASH_ITER(hh, t->table, d, x) {
		for (unsigned i = 0; i < d->n_iss; i++) {
			const char *dn = d->iss[i].dn;
			if (strpbrk(dn, "\t\n") != NULL)
				continue;
			fprintf(fp, "%s\t%lld\t%lld\t%llu\t%s\n", d->name, (long long)d->iss[i].first,
			    (long long)d->iss[i].last, (unsigned long long)d->iss[i].n, dn);
		}
	}
	/* on disk before the rename, so a crash leaves the old state or the new */
	if (fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0) {
		snprintf(err, errsz, "%s: %s", tmp, strerror(errno));
		fclose(fp);
		unlink(tmp);
		return -1;
	}
	if (fclose(fp) != 0) {
		snprintf(err, errsz, "%s: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
