# spiderpig: build, run and test. `make run` and `make test` are the two
# commands the README opens with; both install what a fresh Debian 12 lacks.

CC      ?= cc
PKGS    := fcgi libpq libcjson openssl inih liboath libqrencode cjose libcurl
CFLAGS  ?= -O2 -g
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
           -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral -pthread -Ilib
LDLIBS  += -pthread -lm
# Link only what each binary uses: the worker carries no HTTP or JOSE code.
LDFLAGS += -Wl,--as-needed

DEBS := build-essential pkg-config libfcgi-dev libpq-dev libcjson-dev \
        libssl-dev libinih-dev libcjose-dev libjansson-dev libcurl4-openssl-dev \
        postgresql nginx openssl curl wrk \
        libdbd-pg-perl libio-socket-ssl-perl libjson-perl clang \
        libclang-rt-14-dev liboath-dev libqrencode-dev acl chromium

B := build
LIB_SRC    := $(wildcard lib/*.c)
CGI_SRC    := $(wildcard cgi/*.c)
WORKER_SRC := $(wildcard worker/*.c)
UNIT_SRC   := $(wildcard t/unit/*.c)
LIB_OBJ    := $(LIB_SRC:%.c=$(B)/%.o)
CGI_OBJ    := $(CGI_SRC:%.c=$(B)/%.o)
WORKER_OBJ := $(WORKER_SRC:%.c=$(B)/%.o)
UNIT_BIN   := $(UNIT_SRC:t/unit/%.c=$(B)/t/%)

.PHONY: all deps build run test asan bench fuzz clean

all: build

# Install missing Debian packages (we are root on a fresh machine). A second
# run costs one dpkg query.
deps:
	@missing=$$(for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

build: $(B)/spiderpig-fcgi $(B)/spiderpig-worker $(UNIT_BIN)

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

$(B)/%.o: %.c $(wildcard lib/*.h cgi/*.h worker/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(B)/libspiderpig.a: $(LIB_OBJ)
	ar rcs $@ $^

$(B)/spiderpig-fcgi: $(CGI_OBJ) $(B)/libspiderpig.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

$(B)/spiderpig-worker: $(WORKER_OBJ) $(B)/libspiderpig.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

$(B)/t/%: t/unit/%.c $(B)/libspiderpig.a $(wildcard cgi/*.c cgi/*.h worker/*.c worker/*.h t/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(B)/libspiderpig.a $(PKG_LIBS) $(LDLIBS)

# The whole stack on https://localhost:8443 until Ctrl-C.
run: deps build idp/node_modules/.package-lock.json
	tools/stack run state

# The bundled OIDC provider's npm packages (make run, tests), exactly as locked.
idp/node_modules/.package-lock.json: idp/package-lock.json
	npm ci --prefix idp --no-audit --no-fund

# The browser tests' npm packages: playwright-core only, driving Debian's
# chromium (it never downloads a browser).
t/browser/node_modules/.package-lock.json: t/browser/package-lock.json
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix t/browser --no-audit --no-fund

NPM_STAMPS := idp/node_modules/.package-lock.json \
              t/browser/node_modules/.package-lock.json

test: deps build $(NPM_STAMPS)
	prove -j2 --timer t/

# The suite against an ASan/UBSan build. Sanitizer reports of every process
# (the daemons included, whose stderr goes to their logs) land in
# $(ASAN_LOGS); any report fails the target.
ASAN_LOGS := /tmp/spiderpig-asan
asan: deps $(NPM_STAMPS)
	$(MAKE) clean
	$(MAKE) build CC=clang CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
	rm -rf $(ASAN_LOGS) && mkdir -p -m 1777 $(ASAN_LOGS)
	ASAN_OPTIONS=log_path=$(ASAN_LOGS)/asan:detect_leaks=1 \
	UBSAN_OPTIONS=log_path=$(ASAN_LOGS)/ubsan:print_stacktrace=1 \
	    prove -j2 --timer t/
	@if ls $(ASAN_LOGS)/* >/dev/null 2>&1; then cat $(ASAN_LOGS)/*; \
	    echo "make asan: sanitizer reports above"; exit 1; fi

bench: deps build
	tools/bench

fuzz: deps
	tools/fuzz

clean:
	rm -rf $(B)

FORCE:
