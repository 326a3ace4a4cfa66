# Shared by bin/bourne-server and bin/bourne-agent: runs a module's CLI from its Maven build layout
# (<module>/target/<artifact>-<version>.jar or <module>/target/classes, plus <module>/target/lib/*.jar).
# Sourced; expects BOURNE_ROOT, BOURNE_MODULE and BOURNE_MAIN to be set. With BOURNE_LAUNCH_NO_BUILD set, a missing
# build is an error instead of a `mvn package`.

bourne::launch() {
    local target="$BOURNE_ROOT/$BOURNE_MODULE/target"
    local jar classes=""
    jar=$(ls "$target"/bourne-*-SNAPSHOT.jar "$target"/bourne-*[0-9].jar 2>/dev/null | grep -v -- '-tests.jar' | head -n 1 || true)
    # The classes directory wins whenever it holds the main class: every Maven build that compiles refreshes it,
    # while the jar only changes on `package` (a stale jar from an older build must never shadow newer code).
    if [[ -f "$target/classes/${BOURNE_MAIN//.//}.class" ]]; then
        classes="$target/classes"
    elif [[ -n "$jar" ]]; then
        classes="$jar"
    fi
    if [[ ( -z "$classes" || ! -d "$target/lib" ) && -n "${BOURNE_LAUNCH_NO_BUILD:-}" ]]; then
        # Set by tests and bin/quickstart: a build inside them would be slow, hidden and against another reactor.
        echo "$(basename "$0"): $BOURNE_MODULE is not built ($target has no classes or jar plus lib/); build it" \
            "with: mvn -B -q -pl $BOURNE_MODULE -am package -DskipTests" >&2
        exit 1
    fi
    if [[ -z "$classes" || ! -d "$target/lib" ]]; then
        echo "$(basename "$0"): $BOURNE_MODULE is not built yet; building it now with" >&2
        echo "  mvn -B -q -pl $BOURNE_MODULE -am package -DskipTests" >&2
        echo "(run that yourself, or bin/test, if this fails)" >&2
        (cd "$BOURNE_ROOT" && mvn -B -q -pl "$BOURNE_MODULE" -am package -DskipTests) >&2 || {
            echo "$(basename "$0"): the build failed; see the Maven output above" >&2
            exit 1
        }
        jar=$(ls "$target"/bourne-*-SNAPSHOT.jar "$target"/bourne-*[0-9].jar 2>/dev/null | grep -v -- '-tests.jar' | head -n 1)
        classes="$jar"
    fi
    local java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
    # The pkcs11 key manager calls SunPKCS11's wrapper (sun.security.pkcs11.wrapper) for what the provider does not
    # expose (Pkcs11Module): the module must be resolved and the package exported to the class path.
    exec "$java" ${BOURNE_JAVA_OPTS:-} \
        --add-modules jdk.crypto.cryptoki \
        --add-exports jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED \
        -cp "$classes:$target/lib/*" "$BOURNE_MAIN" "$@"
}
