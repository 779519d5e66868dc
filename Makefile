# dbguard — build, test, install.  Every library comes through pkg-config.
PREFIX    ?= /usr/local
MANPREFIX ?= $(PREFIX)/share/man
COMPDIR   ?= $(PREFIX)/share/bash-completion/completions
# PREFIX=/usr puts the configuration in /etc/dbguard, as the FHS wants.
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
DESTDIR   ?=

CC         ?= cc
PKG_CONFIG ?= pkg-config
VERSION    := 0.1.0

PQ_CFLAGS     ?= $(shell $(PKG_CONFIG) --cflags libpq)
PQ_LIBS       ?= $(shell $(PKG_CONFIG) --libs libpq)
MYSQL_CFLAGS  ?= $(shell $(PKG_CONFIG) --cflags mysqlclient 2>/dev/null || $(PKG_CONFIG) --cflags libmariadb)
MYSQL_LIBS    ?= $(shell $(PKG_CONFIG) --libs mysqlclient 2>/dev/null || $(PKG_CONFIG) --libs libmariadb)
SQLITE_CFLAGS ?= $(shell $(PKG_CONFIG) --cflags sqlite3)
SQLITE_LIBS   ?= $(shell $(PKG_CONFIG) --libs sqlite3)
ZSTD_CFLAGS   ?= $(shell $(PKG_CONFIG) --cflags libzstd)
ZSTD_LIBS     ?= $(shell $(PKG_CONFIG) --libs libzstd)
ZLIB_CFLAGS   ?= $(shell $(PKG_CONFIG) --cflags zlib)
ZLIB_LIBS     ?= $(shell $(PKG_CONFIG) --libs zlib)
CRYPTO_CFLAGS ?= $(shell $(PKG_CONFIG) --cflags libcrypto)
CRYPTO_LIBS   ?= $(shell $(PKG_CONFIG) --libs libcrypto)
YAML_CFLAGS   ?= $(shell $(PKG_CONFIG) --cflags yaml-0.1)
YAML_LIBS     ?= $(shell $(PKG_CONFIG) --libs yaml-0.1)
EXPAT_CFLAGS  ?= $(shell $(PKG_CONFIG) --cflags expat)
EXPAT_LIBS    ?= $(shell $(PKG_CONFIG) --libs expat)

LIB_CFLAGS = $(PQ_CFLAGS) $(MYSQL_CFLAGS) $(SQLITE_CFLAGS) $(ZSTD_CFLAGS) \
             $(ZLIB_CFLAGS) $(CRYPTO_CFLAGS) $(YAML_CFLAGS) $(EXPAT_CFLAGS)
LIB_LIBS   = $(PQ_LIBS) $(MYSQL_LIBS) $(SQLITE_LIBS) $(ZSTD_LIBS) \
             $(ZLIB_LIBS) $(CRYPTO_LIBS) $(YAML_LIBS) $(EXPAT_LIBS) -lpthread

# The build directory and where the programs go: build/ and bin/, or for the
# fault tests build-faults/ and bin-faults/ (make faults).
B   ?= build
BIN ?= bin

OPTFLAGS ?= -O2
ifeq ($(SANITIZE),1)
OPTFLAGS  = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
SANLDFLAGS = -fsanitize=address,undefined
endif
ifeq ($(FAULTS),1)
# Test-only kill points (common/base/fault.h); never in bin/.
FAULTFLAGS = -DDBGUARD_FAULTS
endif
WARNFLAGS = -std=c11 -Wall -Wextra -Werror
ALL_CFLAGS = $(WARNFLAGS) $(OPTFLAGS) $(FAULTFLAGS) -D_GNU_SOURCE -Icommon -I$(B) \
             -DDBGUARD_VERSION='"$(VERSION)"' -DSYSCONFDIR='"$(SYSCONFDIR)"' \
             $(LIB_CFLAGS) $(CFLAGS)

PROGS   = $(patsubst bin/%.c,$(BIN)/%,$(wildcard bin/*.c))
LIBSRC  = $(wildcard common/*/*.c)
LIBOBJ  = $(patsubst common/%.c,$(B)/common/%.o,$(LIBSRC)) $(B)/defaults.o
HEADERS = $(wildcard common/*/*.h)
# Every object in one archive, for the test drivers and the fuzzers.
LIB     = $(B)/libdbguard.a

# One archive per layer of common/ (common/LAYERS); the compiled-in default
# policy belongs to the model, beside the config reader.
LAYERS  = $(notdir $(patsubst %/,%,$(sort $(dir $(wildcard common/*/*.c)))))
layer_objs = $(patsubst common/%.c,$(B)/common/%.o,$(wildcard common/$(1)/*.c)) \
             $(if $(filter model,$(1)),$(B)/defaults.o)

# A link line per program: the layers it uses, highest first, and only the
# libraries those need.  A program that reaches a layer not listed here does
# not link, so a wrong-way dependency shows at build time.
db-envcheck_LAYERS = cli envcheck resolve compose engine model base
db-envcheck_LIBS   = $(PQ_LIBS) $(MYSQL_LIBS) $(SQLITE_LIBS) $(YAML_LIBS) $(EXPAT_LIBS) $(CRYPTO_LIBS)
db-snap_LAYERS     = snapcli cli docker saferun remote snap store resolve compose engine model base
db-snap_LIBS       = $(PQ_LIBS) $(MYSQL_LIBS) $(SQLITE_LIBS) $(ZSTD_LIBS) $(ZLIB_LIBS) $(CRYPTO_LIBS) \
                     $(YAML_LIBS) $(EXPAT_LIBS) -lpthread
db-restore_LAYERS  = restorecli cli docker restore remote snap store resolve compose engine model base
db-restore_LIBS    = $(db-snap_LIBS)
safe-run_LAYERS    = cli docker saferun rehearsal store model base
safe-run_LIBS      = $(ZSTD_LIBS) $(ZLIB_LIBS) $(CRYPTO_LIBS) -lpthread
db-rehearse_LAYERS = cli rehearse resolve compose engine model base
db-rehearse_LIBS   = $(PQ_LIBS) $(MYSQL_LIBS) $(SQLITE_LIBS) $(YAML_LIBS) $(EXPAT_LIBS) $(CRYPTO_LIBS)
portcheck_LAYERS   = cli portcheck docker compose store model base
portcheck_LIBS     = $(YAML_LIBS)

all: $(PROGS)

# Rebuild everything when the flags change (a SANITIZE=1 build after a plain one).
$(B)/flags: FORCE
	@mkdir -p $(sort $(dir $(LIBOBJ)))
	@echo '$(ALL_CFLAGS) $(SANLDFLAGS) $(LDFLAGS)' | cmp -s - $@ || echo '$(ALL_CFLAGS) $(SANLDFLAGS) $(LDFLAGS)' > $@

# The default policy is etc/dbguard.conf itself, compiled in, so an uninstalled
# build and an installed one read the same defaults.
$(B)/defaults.c: etc/dbguard.conf $(B)/flags
	@mkdir -p $(B)
	{ echo 'const char dbguard_default_config[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@

$(B)/defaults.o: $(B)/defaults.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/common/%.o: common/%.c $(HEADERS) $(B)/flags
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIBOBJ)
	rm -f $@
	ar rcs $@ $(LIBOBJ)

define layer_rule
$(B)/lib$(1).a: $(call layer_objs,$(1))
	rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach l,$(LAYERS),$(eval $(call layer_rule,$(l))))

.SECONDEXPANSION:
$(BIN)/%: bin/%.c $$(foreach l,$$($$*_LAYERS),$(B)/lib$$(l).a) $(HEADERS) $(B)/flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(foreach l,$($*_LAYERS),$(B)/lib$(l).a) $(SANLDFLAGS) $(LDFLAGS) $($*_LIBS)

BATS ?= bats
ifeq ($(SANITIZE),1)
# GCC 12's ASan crashes in its own sigaltstack interceptor when it tears down
# a thread ended by pthread_cancel (the compressor's abort path); without
# per-thread alternate stacks it does not.  Leaks and UB still fail a test.
CHECK_ENV = ASAN_OPTIONS=use_sigaltstack=0:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
endif
check: all $(LIB) check-layers
	$(CHECK_ENV) LANG=C LC_ALL=C $(BATS) --timing t/

# No layer of common/ includes a layer above it (common/LAYERS).
check-layers:
	./t/helpers/check-layers.sh

check-asan:
	$(MAKE) SANITIZE=1 check

# The programs with their kill points compiled in (common/base/fault.h), in
# build-faults/ and bin-faults/, apart from the shipped build.
faults:
	$(MAKE) B=build-faults BIN=bin-faults FAULTS=1 all

# The fault harness (t/faults/, README "Fault tests"): kill -9 at every step
# of a snapshot and a restore on all three engines, corruption, a full file
# system; with the concurrent safe-run test of t/50.
check-faults: faults
	$(CHECK_ENV) LANG=C LC_ALL=C DBGUARD_BIN=$(CURDIR)/bin-faults $(BATS) --timing t/faults/
	$(CHECK_ENV) LANG=C LC_ALL=C DBGUARD_BIN=$(CURDIR)/bin-faults $(BATS) --timing \
	    --filter 'concurrent' t/50-safe-run.bats

DEBIAN_PACKAGES = build-essential pkg-config libpq-dev postgresql-15 postgresql-client-15 \
	mariadb-server mariadb-client default-libmysqlclient-dev libsqlite3-dev sqlite3 \
	libzstd-dev zstd zlib1g-dev libssl-dev libyaml-dev libexpat1-dev \
	bats mandoc util-linux bsdextrautils procps iproute2 python3 xfsprogs e2fsprogs rclone age \
	docker.io docker-compose busybox-static redis-server redis-tools \
	clang libclang-rt-dev
deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing:" $$missing; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "all build and test dependencies are installed"; fi

INSTALL_DIRS = $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANPREFIX)/man1 $(DESTDIR)$(COMPDIR) \
               $(DESTDIR)$(SYSCONFDIR)/dbguard
CONF = $(DESTDIR)$(SYSCONFDIR)/dbguard/dbguard.conf
# install records the directories it creates, so uninstall removes exactly
# those (when empty); an edited configuration is kept, as Debian does.
install: all
	@for d in $(INSTALL_DIRS); do p=$$d; while [ -n "$$p" ] && [ ! -d "$$p" ]; do echo "$$p"; \
	    p=$${p%/*}; done; done > .install-dirs.tmp
	install -d $(INSTALL_DIRS)
	install -m 0755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 man1/*.1 $(DESTDIR)$(MANPREFIX)/man1/
	install -m 0644 completions/* $(DESTDIR)$(COMPDIR)/
	@if [ -e $(CONF) ] && ! cmp -s etc/dbguard.conf $(CONF); then \
	    echo "keeping the edited $(CONF); the new default is $(CONF).new"; \
	    install -m 0644 etc/dbguard.conf $(CONF).new; \
	else install -m 0644 etc/dbguard.conf $(CONF); fi
	@cat .install-dirs.tmp $(DESTDIR)$(SYSCONFDIR)/dbguard/installed-dirs 2>/dev/null | sort -u \
	    > .install-dirs.new; rm -f .install-dirs.tmp; \
	mv .install-dirs.new $(DESTDIR)$(SYSCONFDIR)/dbguard/installed-dirs

uninstall:
	for p in $(PROGS); do rm -f $(DESTDIR)$(PREFIX)/$$p; done
	for m in man1/*.1; do rm -f $(DESTDIR)$(MANPREFIX)/$$m; done
	for c in completions/*; do rm -f $(DESTDIR)$(COMPDIR)/$${c#completions/}; done
	rm -f $(CONF).new
	@if [ -e $(CONF) ] && ! cmp -s etc/dbguard.conf $(CONF); then \
	    echo "keeping the edited $(CONF)"; else rm -f $(CONF); fi
	@list=$(DESTDIR)$(SYSCONFDIR)/dbguard/installed-dirs; \
	if [ -f "$$list" ]; then dirs=$$(sort -r "$$list"); rm -f "$$list"; \
	    for d in $$dirs; do rmdir "$$d" 2>/dev/null || true; done; fi

lint-man:
	mandoc -T lint -W warning man1/*.1

demo: all
	./t/helpers/demo.sh

# libFuzzer targets for every parser (clang and libclang-rt needed).
FUZZ_TARGETS = $(patsubst fuzz/%.c,fuzz/%,$(wildcard fuzz/fuzz_*.c))
FUZZ_CFLAGS  = -g -O1 -fsanitize=fuzzer-no-link,address,undefined -D_GNU_SOURCE -Icommon -Ibuild \
               -DDBGUARD_VERSION='"$(VERSION)"' -DSYSCONFDIR='"$(SYSCONFDIR)"' $(LIB_CFLAGS)
# The library is compiled once for all targets (build/fuzz/), each target
# links it as an archive, so it takes only the objects it calls.
FUZZ_OBJ     = $(patsubst common/%.c,build/fuzz/%.o,$(LIBSRC)) build/fuzz/defaults.o
fuzz: $(FUZZ_TARGETS)
build/fuzz/%.o: common/%.c $(HEADERS)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -c -o $@ $<
build/fuzz/defaults.o: build/defaults.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -c -o $@ $<
build/fuzz/libdbguard.a: $(FUZZ_OBJ)
	rm -f $@
	ar rcs $@ $^
fuzz/fuzz_%: fuzz/fuzz_%.c build/fuzz/libdbguard.a
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< build/fuzz/libdbguard.a $(LIB_LIBS)

# Every target for FUZZ_TIME seconds over its corpus, fuzz/corpus/<target>/
# (read only: what a run finds goes to a scratch directory first in line);
# a crash, leak or sanitizer report fails it and leaves its input in
# build/fuzz/run/<target>/.  `make -j2 fuzz-run` runs two at once.
FUZZ_TIME ?= 20
FUZZ_RUNS  = $(patsubst fuzz/%,fuzz-run-%,$(FUZZ_TARGETS))
fuzz-run: $(FUZZ_RUNS)
fuzz-run-%: fuzz/%
	@rm -rf build/fuzz/run/$* && mkdir -p build/fuzz/run/$*/new fuzz/corpus/$*
	@echo "fuzz: $* for $(FUZZ_TIME) s"
	@./fuzz/$* -max_total_time=$(FUZZ_TIME) -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix=build/fuzz/run/$*/ build/fuzz/run/$*/new fuzz/corpus/$* \
	    > build/fuzz/run/$*/log 2>&1 || { tail -n 60 build/fuzz/run/$*/log; echo "fuzz: $* FAILED"; exit 1; }
	@grep -E '^stat::number_of_executed_units' build/fuzz/run/$*/log | sed 's/^/fuzz: $* /'

clean:
	rm -rf build build-faults bin-faults $(PROGS) $(FUZZ_TARGETS)

FORCE:
.PHONY: all check check-layers check-asan faults check-faults fuzz-run deps install uninstall lint-man demo fuzz clean FORCE
