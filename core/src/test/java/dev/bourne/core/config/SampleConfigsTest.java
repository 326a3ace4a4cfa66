package dev.bourne.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The sample configurations at the repository root validate as they are (ARCHITECTURE "Sample configurations"). */
class SampleConfigsTest {

    /** Surefire runs in the core module's directory; the samples sit at the repository root. */
    private static final Path REPOSITORY = Path.of("").toAbsolutePath().getParent();

    @Test
    void serverConf_validates() throws Exception {
        ConfigResult<ServerSettings> result = ServerSettings.load(REPOSITORY.resolve("conf/server/server.conf"));

        ServerSettings s = result.orElseThrow();
        assertEquals("example.org", s.trustDomain().name());
        assertEquals(Path.of("/tmp/bourne-server/private/api.sock"), s.socketPath());
        assertEquals(Path.of("./.data/server"), s.dataDir());
        assertEquals(List.of("DataStore sql", "KeyManager disk", "NodeAttestor join_token"),
                s.plugins().stream().map(p -> p.type() + " " + p.name()).collect(Collectors.toList()));
        assertEquals("sqlite3", s.plugins().get(0).pluginData().get("database_type"));
        assertEquals(List.of(), assertInstanceOf(ConfigResult.Valid.class, result).warnings());
    }

    @Test
    void agentConf_validates() throws Exception {
        AgentSettings a = AgentSettings.load(REPOSITORY.resolve("conf/agent/agent.conf")).orElseThrow();

        assertEquals("example.org", a.trustDomain().name());
        assertEquals(Path.of("/tmp/bourne-agent/public/api.sock"), a.socketPath());
        assertEquals(true, a.insecureBootstrap());
        assertEquals(List.of("KeyManager memory", "NodeAttestor join_token", "WorkloadAttestor unix"),
                a.plugins().stream().map(p -> p.type() + " " + p.name()).collect(Collectors.toList()));
    }

    @Test
    void serverConf_asAgent_rejected() {
        List<String> errors = ConfigTexts.strings(AgentSettings.load(REPOSITORY.resolve("conf/server/server.conf"))
                .errors());

        assertEquals(REPOSITORY.resolve("conf/server/server.conf") + ": agent: is required (this file has a server "
                + "block: is it a server configuration?)", errors.get(0));
    }
}
