package dev.bourne.agent.workloadattestor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.PluginConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class WorkloadAttestorCatalogConfigTest {

    private static PluginConfig plugin(String type, String name, Map<String, Object> data) {
        return new PluginConfig("agent.conf", type, name, true, data);
    }

    @Test
    void fromConfig_unixAndSystemd_inConfigOrder() {
        List<ConfigError> errors = new ArrayList<>();
        Optional<WorkloadAttestorCatalog> catalog = WorkloadAttestorCatalog.fromConfig(List.of(
                plugin("KeyManager", "memory", Map.of()),
                plugin("WorkloadAttestor", "unix", Map.of("discover_workload_path", true)),
                plugin("WorkloadAttestor", "systemd", Map.of())), errors);
        assertEquals(List.of(), errors);
        assertEquals(List.of("unix", "systemd"), catalog.orElseThrow().names());
    }

    @Test
    void fromConfig_badPluginData_errorsNamingTheKeyAndNoCatalog() {
        List<ConfigError> errors = new ArrayList<>();
        Optional<WorkloadAttestorCatalog> catalog = WorkloadAttestorCatalog.fromConfig(List.of(
                plugin("WorkloadAttestor", "unix", Map.of("workload_size_limit", "big"))), errors);
        assertTrue(catalog.isEmpty());
        assertEquals(1, errors.size());
        assertEquals("plugins.WorkloadAttestor.unix.plugin_data.workload_size_limit", errors.get(0).key());
    }

    @Test
    void fromConfig_noWorkloadAttestor_error() {
        List<ConfigError> errors = new ArrayList<>();
        assertTrue(WorkloadAttestorCatalog.fromConfig(List.of(plugin("KeyManager", "memory", Map.of())), errors)
                .isEmpty());
        assertEquals("at least one workload attestor is required", errors.get(0).reason());
    }
}
