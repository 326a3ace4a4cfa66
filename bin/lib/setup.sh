# Shared by bin/test and bin/quickstart: installs what Bourne needs on a Debian or RHEL-family machine and starts
# PostgreSQL. Source it; it defines functions only.

# rpm/rpm-build, rpmlint, systemd-container: the packaging module builds, lints and installs the RPMs and boots their
# units in systemd-nspawn (systemd-analyze and systemd-sysusers come with systemd itself).
BOURNE_DEBIAN_PACKAGES=(softhsm2 opensc swtpm swtpm-tools tpm2-tools postgresql openssl util-linux python3
    rpm rpmlint systemd-container)
BOURNE_RHEL_PACKAGES=(softhsm opensc swtpm swtpm-tools tpm2-tools postgresql-server postgresql openssl util-linux python3
    rpm-build rpmlint systemd-container)
# Commands the suite runs; if all are present nothing is installed (and no package index is downloaded).
BOURNE_COMMANDS=(softhsm2-util pkcs11-tool swtpm swtpm_setup swtpm_ioctl tpm2_getcap psql openssl setpriv python3 java mvn
    rpmbuild rpm rpmlint systemd-analyze systemd-sysusers systemd-nspawn)
# What only the TPM needs. With BOURNE_TPM_OPTIONAL=1 (bin/quickstart) a machine where these cannot be installed is
# not an error: the caller checks bourne::have_tpm_tools and does without a TPM.
BOURNE_TPM_PACKAGES=(swtpm swtpm-tools tpm2-tools)
BOURNE_TPM_COMMANDS=(swtpm swtpm_setup swtpm_ioctl tpm2_getcap tpm2_pcrread tpm2_shutdown)

bourne::log() {
    printf '\033[1m==> %s\033[0m\n' "$*" >&2
}

bourne::die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Runs a command as root: directly when we are root, through sudo otherwise.
bourne::as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        bourne::die "need root to run: $* (run as root, or install sudo)"
    fi
}

bourne::os_family() {
    local id="" id_like=""
    if [ -r /etc/os-release ]; then
        id=$(. /etc/os-release && echo "${ID:-}")
        id_like=$(. /etc/os-release && echo "${ID_LIKE:-}")
    fi
    case " $id $id_like " in
        *" debian "*|*" ubuntu "*) echo debian ;;
        *" rhel "*|*" fedora "*|*" centos "*|*" rocky "*|*" almalinux "*) echo rhel ;;
        *) echo unknown ;;
    esac
}

bourne::missing_commands() {
    local missing=() c
    for c in "${BOURNE_COMMANDS[@]}"; do
        if [ -n "${BOURNE_TPM_OPTIONAL:-}" ] && [[ " ${BOURNE_TPM_COMMANDS[*]} " == *" $c "* ]]; then
            continue
        fi
        # sbin directories are not on every user's PATH, but the tools may live there.
        if ! PATH="$PATH:/usr/sbin:/sbin" command -v "$c" >/dev/null 2>&1; then
            missing+=("$c")
        fi
    done
    if [ "$(bourne::os_family)" = debian ] && ! PATH="$PATH:/usr/sbin" command -v pg_ctlcluster >/dev/null 2>&1; then
        missing+=(pg_ctlcluster)
    fi
    echo "${missing[*]:-}"
}

# Whether swtpm and tpm2-tools are all there.
bourne::have_tpm_tools() {
    local c
    for c in "${BOURNE_TPM_COMMANDS[@]}"; do
        PATH="$PATH:/usr/sbin:/sbin" command -v "$c" >/dev/null 2>&1 || return 1
    done
}

# The package list without the TPM packages (for a second attempt when they cannot be installed).
bourne::without_tpm_packages() {
    local p
    for p in "$@"; do
        [[ " ${BOURNE_TPM_PACKAGES[*]} " == *" $p "* ]] || printf '%s\n' "$p"
    done
}

# Installs the packages the tests and the quickstart need, once: apt-get update runs only when something is missing.
# With BOURNE_TPM_OPTIONAL=1, missing TPM tools are installed when possible, and their packages are dropped (with a
# warning) when the package manager cannot install them.
bourne::install_packages() {
    local missing
    missing=$(bourne::missing_commands)
    if [ -n "${BOURNE_TPM_OPTIONAL:-}" ] && ! bourne::have_tpm_tools; then
        missing="$missing swtpm/tpm2-tools"
    fi
    if [ -z "$missing" ]; then
        bourne::log "All required tools are installed"
        return 0
    fi
    bourne::log "Installing what is missing ($missing)"
    case "$(bourne::os_family)" in
        debian)
            local packages=("${BOURNE_DEBIAN_PACKAGES[@]}")
            command -v java >/dev/null 2>&1 || packages+=(openjdk-17-jdk-headless)
            command -v mvn >/dev/null 2>&1 || packages+=(maven)
            bourne::as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
            if ! bourne::as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
                "${packages[@]}"; then
                [ -n "${BOURNE_TPM_OPTIONAL:-}" ] || bourne::die "apt-get install failed"
                bourne::log "warning: installing with the TPM packages failed; trying without ${BOURNE_TPM_PACKAGES[*]}"
                mapfile -t packages < <(bourne::without_tpm_packages "${packages[@]}")
                bourne::as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
                    "${packages[@]}"
            fi
            ;;
        rhel)
            local packages=("${BOURNE_RHEL_PACKAGES[@]}")
            command -v java >/dev/null 2>&1 || packages+=(java-17-openjdk-devel)
            command -v mvn >/dev/null 2>&1 || packages+=(maven)
            # swtpm and softhsm come from EPEL on RHEL and its rebuilds; Fedora has them in its main repository.
            if ! grep -qi fedora /etc/os-release && ! rpm -q epel-release >/dev/null 2>&1; then
                bourne::as_root dnf install -y epel-release
            fi
            if ! bourne::as_root dnf install -y "${packages[@]}"; then
                [ -n "${BOURNE_TPM_OPTIONAL:-}" ] || bourne::die "dnf install failed"
                bourne::log "warning: installing with the TPM packages failed; trying without ${BOURNE_TPM_PACKAGES[*]}"
                mapfile -t packages < <(bourne::without_tpm_packages "${packages[@]}")
                bourne::as_root dnf install -y "${packages[@]}"
            fi
            ;;
        *)
            bourne::die "unsupported OS: install ${BOURNE_DEBIAN_PACKAGES[*]} (Debian names) yourself, then rerun"
            ;;
    esac
    missing=$(bourne::missing_commands)
    [ -z "$missing" ] || bourne::die "still missing after installing packages: $missing"
}

# Starts the local PostgreSQL server if it is not running (the test fixtures create a database per test class).
bourne::start_postgres() {
    case "$(bourne::os_family)" in
        debian)
            local line version name status
            line=$(PATH="$PATH:/usr/sbin" pg_lsclusters --no-header 2>/dev/null | head -n 1 || true)
            if [ -z "$line" ]; then
                version=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)
                [ -n "$version" ] || bourne::die "PostgreSQL is not installed (package postgresql)"
                bourne::log "Creating PostgreSQL cluster $version/main"
                bourne::as_root pg_createcluster "$version" main
                line=$(pg_lsclusters --no-header | head -n 1)
            fi
            read -r version name _ status _ <<<"$line"
            if [ "${status%%,*}" != online ]; then
                bourne::log "Starting PostgreSQL cluster $version/$name"
                bourne::as_root pg_ctlcluster "$version" "$name" start
            fi
            ;;
        rhel)
            if ! (exec 3<>/dev/tcp/127.0.0.1/"${PGPORT:-5432}") 2>/dev/null; then
                if [ ! -f /var/lib/pgsql/data/PG_VERSION ]; then
                    bourne::as_root postgresql-setup --initdb
                fi
                bourne::log "Starting PostgreSQL"
                if [ -d /run/systemd/system ]; then
                    bourne::as_root systemctl start postgresql
                else
                    bourne::as_root runuser -u postgres -- pg_ctl -D /var/lib/pgsql/data -l /var/lib/pgsql/logfile \
                        -w start
                fi
            fi
            ;;
    esac
}

# The npm projects the tests run with Node.js (independent JOSE/OIDC implementations), installed once with `npm ci`
# from their lock files: again only when the lock file changed since the last install.
BOURNE_NODE_PROJECTS=(appliance/src/test/node/oidc-verify)

# Installs Node.js and npm when missing (Node 20.19 or newer is needed: Debian 13 and RHEL 10 ship it; older releases
# need a newer nodejs package), then the npm projects' modules.
bourne::install_node_modules() {
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        bourne::log "Installing Node.js and npm"
        case "$(bourne::os_family)" in
            debian)
                bourne::as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
                bourne::as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
                    nodejs npm || bourne::die "apt-get install nodejs npm failed"
                ;;
            rhel)
                bourne::as_root dnf install -y nodejs npm || bourne::die "dnf install nodejs npm failed"
                ;;
            *)
                bourne::die "unsupported OS: install Node.js 20.19+ and npm yourself, then rerun"
                ;;
        esac
    fi
    local project
    for project in "${BOURNE_NODE_PROJECTS[@]}"; do
        if [ ! -f "$project/node_modules/.package-lock.json" ] \
            || [ "$project/package-lock.json" -nt "$project/node_modules/.package-lock.json" ]; then
            bourne::log "Installing npm modules in $project"
            (cd "$project" && npm ci --no-audit --no-fund) || bourne::die "npm ci failed in $project"
        fi
    done
}
