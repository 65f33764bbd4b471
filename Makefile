# officeapp — `make run` and `make test` work on a fresh Linux machine with Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Debian packages the project needs: Chromium for browser tests, CJK fonts for pages and documents,
# LibreOffice (headless Writer) for the 版式 PDF of 公文, poppler-utils to measure rendered pages,
# the OpenLDAP headers python-ldap compiles against and slapd for the LDAP sign-in tests.
SYSTEM_PACKAGES := chromium fonts-noto-cjk libreoffice-writer-nogui poppler-utils libldap2-dev libsasl2-dev slapd ldap-utils
LDAP_STAMP := $(VENV)/.installed-ldap

.PHONY: install system-packages run serve test bench lint format clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24"
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# LDAP sign-in (django-auth-ldap, python-ldap) is an extra: it compiles against system headers, which
# `make run` on a fresh machine does not need.
$(LDAP_STAMP): $(STAMP) | system-packages
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev,ldap]'
	@touch $(LDAP_STAMP)

# Installs what is missing when we are root; otherwise names it. Present packages are skipped.
system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  echo "安装系统软件包:$$missing"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
	  echo "缺少系统软件包:$$missing —— 请以 root 运行: apt-get install$$missing"; exit 1; \
	fi

run: install
	@mkdir -p "$${DATA_DIR:-var}"
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py load_demo --if-empty
	$(BIN)/python manage.py collectstatic --noinput -v 0
	$(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

test: install system-packages $(LDAP_STAMP)
	TESTING=1 $(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: install
	TESTING=1 $(BIN)/python -m pytest -q -s tests/bench -p no:randomly $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var
