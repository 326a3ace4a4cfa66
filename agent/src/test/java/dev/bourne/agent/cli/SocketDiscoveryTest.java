package dev.bourne.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SocketDiscoveryTest {
    private static final Path RUN = Path.of("/run/bourne/agent/public/api.sock");
    private static final Path TMP = Path.of("/tmp/bourne-agent/public/api.sock");

    @Test
    void flag_winsOverEnvironmentAndDefaults() throws CliException {
        assertEquals(Path.of("/x/flag.sock"), SocketDiscovery.resolve(Optional.of("/x/flag.sock"),
                Map.of(SocketDiscovery.ENV, "unix:///x/env.sock"), p -> true));
    }

    @Test
    void environment_winsOverDefaults() throws CliException {
        assertEquals(Path.of("/x/env.sock"), SocketDiscovery.resolve(Optional.empty(),
                Map.of(SocketDiscovery.ENV, "unix:///x/env.sock"), p -> true));
    }

    @Test
    void defaults_rpmPathFirst() throws CliException {
        assertEquals(RUN, SocketDiscovery.resolve(Optional.empty(), Map.of(), p -> true));
    }

    @Test
    void defaults_samplePathWhenOnlyItExists() throws CliException {
        assertEquals(TMP, SocketDiscovery.resolve(Optional.empty(), Map.of(), Set.of(TMP)::contains));
    }

    @Test
    void emptyEnvironmentVariable_ignored() throws CliException {
        assertEquals(TMP, SocketDiscovery.resolve(Optional.empty(), Map.of(SocketDiscovery.ENV, ""),
                Set.of(TMP)::contains));
    }

    @Test
    void nothingFound_clearError() {
        CliException e = assertThrows(CliException.class,
                () -> SocketDiscovery.resolve(Optional.empty(), Map.of(), p -> false));
        assertEquals(SocketDiscovery.NOT_FOUND, e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({
        "unix:///run/a.sock, /run/a.sock",
        "unix:/run/a.sock, /run/a.sock",
        "/run/a.sock, /run/a.sock",
        "relative/a.sock, relative/a.sock",
    })
    void parse_acceptedForms(String value, String path) throws CliException {
        assertEquals(Path.of(path), SocketDiscovery.parse("-socketPath", value));
    }

    @ParameterizedTest
    @ValueSource(strings = {"tcp://127.0.0.1:8081", "unix://", "unix:", "unix:relative", "unix:///a.sock?x=1",
        "http://host/a.sock"})
    void parse_rejectedForms(String value) {
        CliException e = assertThrows(CliException.class, () -> SocketDiscovery.parse(SocketDiscovery.ENV, value));
        assertEquals(SocketDiscovery.ENV + " " + SocketDiscovery.BAD_ADDRESS, e.getMessage());
    }
}
