# tlsentry: a passive sensor for TLS handshakes.  Plain make; see README.md.
#
#   make          build ./tlsentry
#   make run      install what is missing, build, run on the bundled samples
#   make test     install what is missing, build, run every test
#   make check    the same tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz     libFuzzer targets for FUZZ_SECONDS each (clang)
#   make lint     cppcheck, clang-tidy (.clang-tidy) and gcc -fanalyzer, all clean
#   make valgrind the sample captures under valgrind memcheck, no error or leak
#   make install  copy the binary to $(DESTDIR)$(PREFIX)/bin
#   make bench    the benchmark of README "Performance" (not part of make test):
#                 BENCH_SETS=A,A',B BENCH_RUNS=5 BENCH_ARGS='tlsentry options'
#                 BENCH_TOOLS=tlsentry,tshark,ndpi,tcpdump BENCH_OTHER_RUNS=N BENCH_SCALE=1
#                 BENCH_WORKERS=2 (also timed on A')

VERSION  = 0.1.0
PREFIX  ?= /usr/local
BUILD   ?= build
CC      ?= cc

# Debian packages the build and the tests need (installed by 'make deps').
BUILD_PKGS = gcc libc6-dev make pkg-config libpcap-dev libssl-dev uthash-dev libseccomp-dev \
             libpsl-dev publicsuffix ca-certificates librelp-dev
# The collectors the syslog tests send to (rsyslog with RELP and OpenSSL
# TLS; syslog-ng conflicts with rsyslog as a package, so 'make deps' unpacks
# Debian's syslog-ng-core into $(SYSLOG_NG_DIR) and installs its libraries),
# and Chromium, which renders the HTML report.
SYSLOG_NG_LIBS = libivykis0 libnet1 libwrap0 libjson-c5 libglib2.0-0 libpcre3 libcap2
TEST_PKGS  = python3 python3-yaml openssl iproute2 procps time rsyslog rsyslog-relp \
           rsyslog-openssl chromium $(SYSLOG_NG_LIBS)
SYSLOG_NG_DIR = build/syslog-ng
FUZZ_PKGS  = clang libclang-rt-14-dev
# make bench: GNU time and python3 (in TEST_PKGS) to time and check; the seed
# captures, when missing, are made with real stacks (tests/bench/make-seeds.sh).
# tshark and ndpiReader are compared when installed, never installed here.
BENCH_PKGS = time python3
SEED_PKGS  = openssl tcpdump tshark iproute2 nftables python3 coreutils

PKG_CFLAGS := $(shell pkg-config --cflags libpcap libssl libcrypto libseccomp libpsl relp 2>/dev/null)
# librelp is not linked: output/syslog.c loads it (dlopen) for relp:// only
PKG_LIBS   := $(shell pkg-config --libs libpcap libssl libcrypto libseccomp libpsl 2>/dev/null || \
                echo -lpcap -lssl -lcrypto -lseccomp -lpsl) -pthread

WARN     = -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
           -Wvla -Wno-unused-parameter
HARDEN   = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE -pthread
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_DEFAULT_SOURCE -DTLSENTRY_VERSION='"$(VERSION)"' $(WARN) \
           $(HARDEN) $(PKG_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)
ALL_LDFLAGS = -pie -pthread -Wl,-z,relro,-z,now $(LDFLAGS) $(EXTRA_CFLAGS)

LIB_SRCS = engine.c workers.c sandbox.c \
           capture/capture.c capture/decode.c capture/flow.c capture/reasm.c \
           parser/cert.c parser/hashtab.c parser/tls_hs.c parser/tls_names.c \
           parser/tls_record.c parser/tls_fp.c parser/quic.c parser/dtls.c parser/starttls.c \
           parser/trust.c parser/digest.c \
           rules/rules.c rules/judge.c rules/learn.c \
           output/event.c output/evidence.c output/format.c output/json.c output/log.c \
           output/report.c output/syslog.c
LIB_OBJS = $(LIB_SRCS:%.c=$(BUILD)/%.o)
TESTS    = $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
FUZZERS  = $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
REPLAYS  = $(patsubst tests/fuzz/%.c,$(BUILD)/replay/%,$(wildcard tests/fuzz/fuzz_*.c))
FLOODGEN = $(BUILD)/tests/floodgen
SOAK     = $(BUILD)/tests/soak
STTPCAP  = $(BUILD)/tests/starttls_pcap
HEADERS  = $(wildcard *.h capture/*.h parser/*.h rules/*.h output/*.h tests/*.h)

.PHONY: all deps run test check fuzz lint valgrind install clean bench
all: tlsentry

tlsentry: $(BUILD)/tlsentry
	cp $< $@.tmp && mv -f $@.tmp $@	# a running copy keeps its inode

$(BUILD)/tlsentry: $(BUILD)/tlsentry.o $(BUILD)/libtlsentry.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/libtlsentry.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(BUILD)/libtlsentry.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libtlsentry.a $(PKG_LIBS)

$(SOAK): tests/soak.c $(BUILD)/libtlsentry.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libtlsentry.a $(PKG_LIBS)

$(FLOODGEN): tests/gen/floodgen.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(PKG_LIBS)

# The fuzz targets with a plain main(), to replay saved inputs in make test.
$(BUILD)/replay/%: tests/fuzz/%.c tests/fuzz/replay_main.c $(BUILD)/libtlsentry.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< tests/fuzz/replay_main.c $(BUILD)/libtlsentry.a $(PKG_LIBS)

# Install the Debian packages that are missing (apt-get, as root); only
# when something is missing, so a prepared machine stays offline.
deps:
	@missing=""; for p in $(BUILD_PKGS) $(TEST_PKGS) $(EXTRA_PKGS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" -ne 0 ]; then \
	    echo "tlsentry: missing packages:$$missing; run as root, or: sudo apt-get install$$missing" >&2; exit 1; \
	  fi; \
	  echo "tlsentry: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@if [ ! -x $(SYSLOG_NG_DIR)/usr/sbin/syslog-ng ] && ! command -v syslog-ng >/dev/null && \
	    [ "$$(id -u)" -eq 0 ]; then \
	  echo "tlsentry: unpacking syslog-ng-core into $(SYSLOG_NG_DIR) (for the tests)"; \
	  rm -rf $(SYSLOG_NG_DIR).tmp && mkdir -p $(SYSLOG_NG_DIR).tmp && \
	  (cd $(SYSLOG_NG_DIR).tmp && { apt-get download syslog-ng-core >/dev/null 2>&1 || \
	    { apt-get update -qq && apt-get download syslog-ng-core >/dev/null 2>&1; }; }) && \
	  dpkg-deb -x $(SYSLOG_NG_DIR).tmp/syslog-ng-core_*.deb $(SYSLOG_NG_DIR) && \
	  rm -rf $(SYSLOG_NG_DIR).tmp || echo "tlsentry: could not unpack syslog-ng-core" >&2; \
	fi

# The iCloud story: five watched and unwatched handshakes, one intercepted.
run: deps
	@$(MAKE) --no-print-directory all
	@rm -f $(BUILD)/run.jsonl
	./tlsentry -r samples/icloud-story.pcap -R samples/watch.rules -w $(BUILD)/run.jsonl \
	  --ca-bundle samples/certs/legit-root.pem --ca-bundle samples/certs/example-root.pem
	@echo "tlsentry: the events, one JSON object per line, are in $(BUILD)/run.jsonl"

test: deps
	@$(MAKE) --no-print-directory all $(TESTS) $(REPLAYS) $(FLOODGEN) $(SOAK) $(STTPCAP)
	@tests/run-tests.sh $(BUILD) ./tlsentry

# Everything again, built with sanitizers into build/check.
check: deps
	@$(MAKE) --no-print-directory BUILD=build/check \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  CFLAGS="-O1 -g" build/check/tlsentry \
	  $(patsubst $(BUILD)/%,build/check/%,$(TESTS) $(REPLAYS) $(FLOODGEN) $(SOAK) $(STTPCAP))
	@ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  tests/run-tests.sh build/check build/check/tlsentry

FUZZ_SECONDS ?= 60
fuzz:
	@$(MAKE) --no-print-directory deps EXTRA_PKGS="$(FUZZ_PKGS)"
	@$(MAKE) --no-print-directory CC=clang BUILD=build/fuzz CFLAGS="-O1 -g" \
	  EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" $(patsubst $(BUILD)/%,build/fuzz/%,$(FUZZERS))
	@tests/fuzz/run-fuzz.sh build/fuzz $(FUZZ_SECONDS)

$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/libtlsentry.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ $< $(BUILD)/libtlsentry.a $(PKG_LIBS)

SRCS = tlsentry.c $(LIB_SRCS)

lint: deps
	@$(MAKE) --no-print-directory deps EXTRA_PKGS="cppcheck clang-tidy"
	cppcheck --error-exitcode=1 --enable=warning,portability,performance --inline-suppr \
	  --std=c11 -q -I. --suppress=missingIncludeSystem $(SRCS)
	clang-tidy -quiet $(SRCS) -- -std=c11 -D_DEFAULT_SOURCE $(PKG_CFLAGS) -I.
	@# -Wno-analyzer-malloc-leak: the analyzer cannot follow uthash's bucket
	@# arrays into the table it stores them in; LeakSanitizer (make check) and
	@# valgrind (make valgrind) check for leaks instead.
	@for f in $(SRCS); do \
	  gcc -std=c11 -D_DEFAULT_SOURCE $(PKG_CFLAGS) -fanalyzer -Wno-analyzer-malloc-leak \
	    -Werror -O1 -c -o /dev/null $$f || exit 1; \
	done
	@echo "lint: clean"

# --no-seccomp: valgrind emulates system calls and cannot run a seccomp filter
VALGRIND = valgrind --quiet --suppressions=tests/valgrind.supp --error-exitcode=9 --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect
valgrind: all
	@$(MAKE) --no-print-directory deps EXTRA_PKGS=valgrind
	$(VALGRIND) ./tlsentry -q -Z root --no-seccomp $(addprefix -r ,$(wildcard samples/*.pcap)) \
	  -R samples/watch.rules -w /dev/null
	@# the other outputs: CEF, a text collector over UDP, the report; then
	@# collectors that are not there (exit status 1: alerts undelivered)
	$(VALGRIND) ./tlsentry -q -Z root --no-seccomp $(addprefix -r ,$(wildcard samples/*.pcap)) \
	  -R samples/watch.rules -F cef -w /dev/null --stats-interval 3600 --syslog-format text \
	  --syslog udp://127.0.0.1:9 --report $(BUILD)/valgrind-report.html
	@rc=0; $(VALGRIND) ./tlsentry -q -Z root --no-seccomp -r samples/icloud-story.pcap \
	  -R samples/watch.rules -w /dev/null --syslog relp://127.0.0.1:9 --syslog tcp://127.0.0.1:9 \
	  --syslog tls://127.0.0.1:9 --syslog-flush-timeout 1 || rc=$$?; \
	  [ $$rc -eq 1 ] || { echo "valgrind: collectors away: exit status $$rc, not 1"; exit 1; }
	@for f in tests/hostile/*.pcap; do \
	  $(VALGRIND) ./tlsentry -q -Z root --no-seccomp -r $$f -R samples/watch.rules \
	    -w /dev/null || exit 1; \
	done
	@# judging with a trust store, learning, trust on first use, evidence files
	@rm -rf $(BUILD)/vg && mkdir -p $(BUILD)/vg
	$(VALGRIND) ./tlsentry learn -q -Z root --no-seccomp -r samples/judge-learn-clean.pcap \
	  --ca-bundle samples/certs-judge/judge-root.pem -o /dev/null
	$(VALGRIND) ./tlsentry -q -Z root --no-seccomp -r samples/judge-learn-clean.pcap \
	  -r samples/judge-learn-attack.pcap -r samples/judge.pcap -R samples/judge.rules \
	  --ca-bundle samples/certs-judge/judge-root.pem --state $(BUILD)/vg/state \
	  --store-certs $(BUILD)/vg/certs --evidence $(BUILD)/vg/pcaps --evidence-max 5 -w /dev/null
	@echo "valgrind: no errors, no leaks"

# The benchmark (tests/bench/, README "Performance"); never part of make test.
# The captures are written once into BENCH_DIR (A and A' about 400 MB each,
# B 2 GB) and again only when the generator or the seeds change.
BENCH_SETS  ?= A,A',B
BENCH_RUNS  ?= 5
BENCH_OTHER_RUNS ?= $(BENCH_RUNS)
BENCH_ARGS  ?=
BENCH_TOOLS ?= tlsentry,tshark,ndpi,tcpdump
BENCH_SCALE ?= 1
BENCH_DIR   ?= $(BUILD)/bench$(if $(filter-out 1,$(BENCH_SCALE)),-$(BENCH_SCALE))
BENCH_SEEDS  = $(wildcard tests/bench/seeds/*.pcap tests/bench/seeds/keys/*.key)
comma := ,
BENCH_PCAPS  = $(patsubst %,$(BENCH_DIR)/%.pcap,$(subst A',Aprime,$(subst $(comma), ,$(BENCH_SETS))))

BENCH_WORKERS ?= 2

bench: deps
	@$(MAKE) --no-print-directory deps EXTRA_PKGS="$(BENCH_PKGS)"
	@$(MAKE) --no-print-directory all $(BENCH_SEED_PCAPS)
	@$(MAKE) --no-print-directory $(BENCH_DIR)/floor $(BENCH_PCAPS)
	tests/bench/run.py --sets "$(BENCH_SETS)" --runs $(BENCH_RUNS) --other-runs $(BENCH_OTHER_RUNS) \
	  --tools "$(BENCH_TOOLS)" --workers "$(BENCH_WORKERS)" \
	  --args "$(BENCH_ARGS)" --dir $(BENCH_DIR) --floor $(BENCH_DIR)/floor \
	  --report $(BENCH_DIR)/results.md

# The seeds are committed; a checkout without them makes them (root, namespaces).
BENCH_SEED_PCAPS = tests/bench/seeds/hs.pcap tests/bench/seeds/bulk.pcap
$(BENCH_SEED_PCAPS):
	@$(MAKE) --no-print-directory deps EXTRA_PKGS="$(SEED_PKGS)"
	tests/bench/make-seeds.sh

$(BENCH_DIR)/benchgen: tests/bench/benchgen.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(PKG_LIBS) -lm

$(BENCH_DIR)/floor: tests/bench/floor.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(PKG_LIBS)

$(BENCH_DIR)/%.pcap: $(BENCH_DIR)/benchgen $(BENCH_SEEDS)
	$(BENCH_DIR)/benchgen "$(subst Aprime,A',$*)" tests/bench/seeds $@ $(BENCH_DIR)/$*.truth.tsv \
	  $(BENCH_SCALE)

install: tlsentry
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/doc/tlsentry
	install -m 0755 tlsentry $(DESTDIR)$(PREFIX)/bin/tlsentry
	install -m 0644 README.md samples/watch.rules $(DESTDIR)$(PREFIX)/share/doc/tlsentry/

clean:
	rm -rf build tlsentry
