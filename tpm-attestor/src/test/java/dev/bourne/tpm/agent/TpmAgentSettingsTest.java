package dev.bourne.tpm.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.tpm.common.TpmHashAlg;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** plugin_data validation: pure, never touches a TPM; every error at once, with its key. */
class TpmAgentSettingsTest {

    private static final String FILE = "agent.conf";
    private static final String PREFIX = "agent.conf: plugins.NodeAttestor.tpm.plugin_data.";

    private static ConfigResult<TpmAgentSettings> validate(Map<String, Object> data) {
        return TpmAgentSettings.validate(new PluginConfig(FILE, "NodeAttestor", "tpm", true, data));
    }

    @Test
    void validate_empty_defaults() throws Exception {
        TpmAgentSettings settings = validate(Map.of()).orElseThrow();

        assertEquals("/dev/tpmrm0", settings.device());
        assertEquals(0x81010B0E, settings.akHandle());
        assertEquals(AkType.ECC_P256, settings.akType());
        assertEquals(Path.of("/sys/kernel/security/tpm0/binary_bios_measurements"), settings.eventLogPath());
        assertEquals(List.of(0, 2, 4, 7), settings.sealPcrs());
        assertEquals(TpmHashAlg.SHA256, settings.sealPcrBank());
    }

    @Test
    void validate_everyKeySet_parsed() throws Exception {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("tpm_device", "tcp://127.0.0.1:2321");
        data.put("ak_handle", "0x81000010");
        data.put("ak_type", "rsa-2048");
        data.put("event_log_path", "/var/lib/bourne/eventlog.bin");
        data.put("seal_pcrs", List.of(7.0, 0.0, 14.0));
        data.put("seal_pcr_bank", "sha384");

        TpmAgentSettings settings = validate(data).orElseThrow();

        assertEquals("tcp://127.0.0.1:2321", settings.device());
        assertEquals(0x81000010, settings.akHandle());
        assertEquals(AkType.RSA_2048, settings.akType());
        assertEquals(Path.of("/var/lib/bourne/eventlog.bin"), settings.eventLogPath());
        assertEquals(List.of(0, 7, 14), settings.sealPcrs());
        assertEquals(TpmHashAlg.SHA384, settings.sealPcrBank());
    }

    @Test
    void validate_akHandleAsNumber_accepted() throws Exception {
        assertEquals(0x81010B0E, validate(Map.of("ak_handle", (double) 0x81010B0EL)).orElseThrow().akHandle());
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of(Map.of("tpm_device", "tpmrm0"), "tpm_device: " + TpmDevices.NOT_A_DEVICE),
                Arguments.of(Map.of("tpm_device", "tcp://127.0.0.1"), "tpm_device: " + TpmDevices.BAD_TCP_ADDRESS),
                Arguments.of(Map.of("tpm_device", "tcp://127.0.0.1:70000"),
                        "tpm_device: " + TpmDevices.BAD_TCP_ADDRESS),
                Arguments.of(Map.of("tpm_device", "tcp://host:2321/path"),
                        "tpm_device: " + TpmDevices.BAD_TCP_ADDRESS),
                Arguments.of(Map.of("tpm_device", 3.0), "tpm_device: expected a string, got number 3"),
                Arguments.of(Map.of("ak_handle", "0x81800000"), "ak_handle: " + TpmAgentSettings.AK_HANDLE_INVALID),
                Arguments.of(Map.of("ak_handle", "0x01C00002"), "ak_handle: " + TpmAgentSettings.AK_HANDLE_INVALID),
                Arguments.of(Map.of("ak_handle", "81010B0E"), "ak_handle: " + TpmAgentSettings.AK_HANDLE_INVALID),
                Arguments.of(Map.of("ak_handle", "0x1FFFFFFFF"), "ak_handle: "
                        + TpmAgentSettings.AK_HANDLE_INVALID),
                Arguments.of(Map.of("ak_handle", 2.5), "ak_handle: " + TpmAgentSettings.AK_HANDLE_INVALID),
                Arguments.of(Map.of("ak_type", "ecc-p384"),
                        "ak_type: must be one of ecc-p256, rsa-2048, got string \"ecc-p384\""),
                Arguments.of(Map.of("event_log_path", "eventlog.bin"),
                        "event_log_path: " + TpmAgentSettings.EVENT_LOG_NOT_ABSOLUTE),
                Arguments.of(Map.of("seal_pcrs", "0,2,4,7"), "seal_pcrs: " + TpmAgentSettings.SEAL_PCRS_NOT_LIST),
                Arguments.of(Map.of("seal_pcrs", List.of()), "seal_pcrs: " + TpmAgentSettings.SEAL_PCRS_EMPTY),
                Arguments.of(Map.of("seal_pcrs", List.of(0.0, 24.0)),
                        "seal_pcrs[1]: " + TpmAgentSettings.SEAL_PCR_INVALID),
                Arguments.of(Map.of("seal_pcrs", List.of(-1.0)), "seal_pcrs[0]: " + TpmAgentSettings.SEAL_PCR_INVALID),
                Arguments.of(Map.of("seal_pcrs", List.of(1.5)), "seal_pcrs[0]: " + TpmAgentSettings.SEAL_PCR_INVALID),
                Arguments.of(Map.of("seal_pcrs", List.of("7")), "seal_pcrs[0]: " + TpmAgentSettings.SEAL_PCR_INVALID),
                Arguments.of(Map.of("seal_pcrs", List.of(7.0, 7.0)),
                        "seal_pcrs[1]: " + TpmAgentSettings.SEAL_PCR_DUPLICATE),
                Arguments.of(Map.of("seal_pcr_bank", "md5"), "seal_pcr_bank: "
                        + TpmAgentSettings.SEAL_PCR_BANK_INVALID),
                Arguments.of(Map.of("seal_pcr", List.of(7.0)), "seal_pcr: unknown key (did you mean \"seal_pcrs\"?)"));
    }

    @ParameterizedTest
    @MethodSource("invalid")
    void validate_invalid_exactError(Map<String, Object> data, String expected) {
        ConfigResult<TpmAgentSettings> result = validate(data);

        ConfigResult.Invalid<TpmAgentSettings> invalid = assertInstanceOf(ConfigResult.Invalid.class, result);
        assertEquals(List.of(PREFIX + expected), invalid.errors().stream().map(Object::toString).toList());
    }

    @Test
    void validate_severalErrors_allReportedAtOnce() {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("tpm_device", "relative");
        data.put("ak_type", "dsa");
        data.put("seal_pcrs", List.of(99.0));
        data.put("bogus", true);

        List<String> errors = validate(data).errors().stream().map(Object::toString).toList();

        assertEquals(List.of(PREFIX + "tpm_device: " + TpmDevices.NOT_A_DEVICE,
                PREFIX + "ak_type: must be one of ecc-p256, rsa-2048, got string \"dsa\"",
                PREFIX + "seal_pcrs[0]: " + TpmAgentSettings.SEAL_PCR_INVALID,
                PREFIX + "bogus: unknown key"), errors);
    }
}
