#!/usr/bin/env python3
"""Pin the benign script sources of the malicious-Python model's training recipe.

    python3 training/python/pin_benign_sources.py > training/python/benign-sources.tsv
    python3 training/python/pin_benign_sources.py --setup-era \
      | grep -vxFf training/python/benign-sources.tsv >> training/python/benign-sources.tsv

For every Debian package and PyPI project named below, records the exact artifact the trainer
fetches (`cargo xtask train-python-model`): a Debian package's version and SHA-256 from the apt
index, or a PyPI project's latest source distribution (URL and SHA-256 from PyPI's JSON API);
for the SETUP, DEPENDENTS and ORDINARY lists, the newest final release before SETUP_CUTOFF.
Nothing is downloaded, installed or run here; the trainer downloads each artifact once into
target/python-training/, refuses any whose hash differs, and reads its Python files in memory.

What these are: programs and scripts of the kind that run in containers - operations tools,
agents, backup and CI scripts (Debian packages' Python programs), and the scripts/, bin/,
tools/, examples/ and setup.py of PyPI projects - as opposed to the installed libraries the
model also learns from. Offensive-security tools are deliberately left out.
"""
import json
import subprocess
import sys
import urllib.parse
import urllib.request

DEBIAN = """
ansible-core apt-listchanges awscli bpfcc-tools borgbackup certbot cloud-init devscripts
docker-compose dput duplicity git-buildpackage glances iotop networkd-dispatcher offlineimap3
ranger rdiff-backup reportbug s-tui s3cmd sosreport ssh-import-id supervisor tuned ufw
unattended-upgrades waagent
""".split()

PYPI = """
aiohttp ansible-runner apache-libcloud asyncssh boto buildbot celery circus cookiecutter
dnspython docker dramatiq fabric google-api-python-client gunicorn httpie hvac invoke kombu
kubernetes ldap3 locust luigi netmiko paramiko pexpect plumbum prometheus-client psutil
pyftpdlib pyinstaller pysnmp python-keycloak pywinrm pyzmq rq sh tornado websockets
""".split()

# Projects whose setup.py does real work at build or install time: custom commands (cmdclass),
# subprocess calls to compilers and config tools (pkg-config, pg_config, cmake, make, npm,
# msgfmt, protoc, git), downloads of bundled sources (SQLite, CLDR, freetype, libuv), version
# files written from git. Registry payloads live in setup.py hooks too, so these are the benign
# side of that vocabulary. Pinned at their newest release before SETUP_CUTOFF, from the years
# when a project's build logic still lived in setup.py.
SETUP = """
apsw argon2-cffi asyncpg babel bcrypt blis bokeh brotli cassandra-driver cffi confluent-kafka
cryptography cymem cython dbus-python dlib evdev fiona gdal gevent greenlet grpcio grpcio-tools
gssapi h5py healpy hiredis httptools ipywidgets jupyterlab kerberos kivy llvmlite lxml lz4
m2crypto markupsafe matplotlib mercurial mmh3 mod-wsgi msgpack murmurhash mysqlclient netcdf4
netifaces notebook numba numpy pandas pillow plotly preshed protobuf psycopg2 pyarrow pyaudio
pycairo pycares pycrypto pycryptodome pycurl pygame pygobject pymongo pymssql pymupdf pynacl
pyodbc pyproj pysam python-ldap python-levenshtein python-snappy pyyaml pyzmq rasterio regex
ruamel-yaml salt scikit-image scikit-learn scipy scrypt setproctitle shapely simplejson spacy
sphinx srsly statsmodels systemd-python tables thinc twisted ujson uvloop uwsgi xattr xmlsec
xxhash zstandard
""".split()
# Projects whose setup.py declares what payload setup.py files declare (requests, chat and
# webhook clients, browser drivers, downloaders, input and screen capture) and whose scripts and
# examples use those capabilities for their stated purpose. Same cutoff rule.
DEPENDENTS = """
atlassian-python-api chromedriver-autoinstaller conan datadog dhooks discord-py discord-webhook
facebook-sdk gdown geopy getmac googlemaps influxdb instaloader jira keyring msrest mss pipenv
praw pyautogui pygithub pynput pysolr pytelegrambotapi python-gitlab python-jenkins
python-telegram-bot python-twitter pywhatkit requests-html requests-oauthlib requests-toolbelt scrapy
selenium sentry-sdk slackclient spotipy stripe telethon tldextract tweepy twilio twine web3
webdriver-manager wget youtube-dl zeep
""".split()
# Widely installed projects (among PyPI's most downloaded) whose setup.py is ordinary packaging:
# README and version reading, find_packages, install_requires, entry points, the odd test or
# release command. Payload setup.py files are written from the same template, so these are what
# an ordinary one looks like beside them. Same cutoff rule.
ORDINARY = """
adal aiofiles alembic anyio appdirs argcomplete arrow asn1crypto astroid async-timeout attrs
azure-core azure-storage-blob beautifulsoup4 black bleach boto3 botocore bottle cachetools cerberus
certifi chardet cherrypy click colorama coverage cssselect decorator distlib distro django
djangorestframework docopt docutils dulwich ecdsa elasticsearch factory-boy faker falcon fastapi
filelock fire flake8 flask flower freezegun fsspec gitpython google-api-core google-auth
google-cloud-storage googleapis-common-protos h11 html5lib httplib2 httpretty httpx humanize idna
importlib-metadata ipython isodate isort itsdangerous jedi jinja2 jinja2-time jmespath jsonschema
jupyter-client jupyter-core kafka-python loguru mako markdown marshmallow mccabe mechanize mistune
mock more-itertools msrestazure multidict nbconvert nbformat netaddr nose oauthlib openpyxl
packaging paho-mqtt parso pendulum pika pluggy prompt-toolkit ptyprocess py pyasn1 pyasn1-modules
pycodestyle pyflakes pygments pyjwt pylint pymysql pyopenssl pyparsing pypdf2 pyperclip pyramid
pyrsistent pyserial pysftp pysocks pytest python-dateutil python-docx python-dotenv pytz raven redis
reportlab requests requests-file requests-mock responses rich rsa s3fs s3transfer sanic schema scp
setuptools-scm six smart-open sniffio soupsieve sqlalchemy sshtunnel starlette structlog tabulate
termcolor toml tomlkit tox tqdm traitlets typer typing-extensions urllib3 uvicorn vcrpy virtualenv
voluptuous waitress wcwidth webencodings websocket-client werkzeug wheel wrapt xlrd xlsxwriter yarl
zipp
""".split()
SETUP_CUTOFF = "2021-01-01"

MAX_SDIST = 40 * 1024 * 1024


def apt_field(pkg, field):
    out = subprocess.run(["apt-cache", "show", "--no-all-versions", pkg], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith(field + ": "):
            return line.split(": ", 1)[1].strip()
    raise SystemExit(f"{pkg}: no {field} in apt-cache show")


def pypi_json(name):
    with urllib.request.urlopen(f"https://pypi.org/pypi/{name}/json", timeout=60) as r:
        return json.load(r), r.geturl()


def version_key(v):
    return tuple(int(p) if p.isdigit() else -1 for p in v.replace("-", ".").split("."))


def setup_era_sdist(name):
    """The newest final release uploaded before SETUP_CUTOFF that has a small enough sdist."""
    meta, base = pypi_json(name)
    best = None
    for version, files in meta["releases"].items():
        if not all(p.isdigit() for p in version.split(".")):
            continue  # pre-releases, post-releases, odd schemes
        sdists = [u for u in files if u["packagetype"] == "sdist" and u["size"] <= MAX_SDIST and not u.get("yanked")
                  and u["upload_time"] < SETUP_CUTOFF and u["filename"].endswith((".tar.gz", ".zip"))]
        if sdists and (best is None or version_key(version) > version_key(best[0])):
            best = (version, sdists[0])
    if best is None:
        print(f"{name}: no final source distribution of at most {MAX_SDIST} bytes before {SETUP_CUTOFF}", file=sys.stderr)
        return None
    version, u = best
    return f"pypi\t{name}\t{version}\t{u['digests']['sha256']}\t{urllib.parse.urljoin(base, u['url'])}"


def print_setup_era():
    """Rows of the SETUP, DEPENDENTS and ORDINARY projects (each once, operations tools excluded)."""
    seen = set(PYPI)
    for group in (SETUP, DEPENDENTS, ORDINARY):
        names = sorted(set(group) - seen)
        seen |= set(group)
        for name in names:
            row = setup_era_sdist(name)
            if row:
                print(row)


def main():
    if sys.argv[1:] == ["--setup-era"]:
        # Only the SETUP, DEPENDENTS and ORDINARY rows, to add new projects to an existing pin file
        # without re-pinning the others (the docstring's grep keeps the rows already there).
        print_setup_era()
        return
    print("# kind\tname\tversion\tsha256\tsource (generated by pin_benign_sources.py; see its docstring)")
    for pkg in sorted(set(DEBIAN)):
        print(f"deb\t{pkg}\t{apt_field(pkg, 'Version')}\t{apt_field(pkg, 'SHA256')}\t{apt_field(pkg, 'Filename')}")
    for name in sorted(set(PYPI)):
        meta, base = pypi_json(name)
        version = meta["info"]["version"]
        sdists = [u for u in meta["urls"] if u["packagetype"] == "sdist" and u["size"] <= MAX_SDIST]
        if not sdists:
            print(f"{name}: no source distribution of at most {MAX_SDIST} bytes for {version}", file=sys.stderr)
            continue
        u = sdists[0]
        print(f"pypi\t{name}\t{version}\t{u['digests']['sha256']}\t{urllib.parse.urljoin(base, u['url'])}")
    print_setup_era()


if __name__ == "__main__":
    main()
