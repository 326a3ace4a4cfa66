package dev.bourne.tpm.agent;

import dev.bourne.core.config.ConfigReader;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.tpm.common.TpmHashAlg;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The validated {@code plugin_data} of the agent's {@code NodeAttestor "tpm"}.
 *
 * <pre>{@code
 * NodeAttestor "tpm" {
 *     plugin_data {
 *         tpm_device     = "/dev/tpmrm0"          # or "tcp://127.0.0.1:2321" (swtpm)
 *         ak_handle      = "0x81010B0E"           # persistent handle of the attestation key
 *         ak_type        = "ecc-p256"             # or "rsa-2048"
 *         event_log_path = "/sys/kernel/security/tpm0/binary_bios_measurements"
 *         seal_pcrs      = [0, 2, 4, 7]           # PCRs the agent's credential is sealed to
 *         seal_pcr_bank  = "sha256"
 *     }
 * }
 * }</pre>
 *
 * Validation is pure: it never touches the TPM, so {@code bourne-agent validate} works on a machine without one.
 *
 * @param device {@code /dev/tpmrm0} or {@code tcp://host:port}
 * @param akHandle persistent handle of the AK, in the owner's persistent range 0x81000000..0x817FFFFF
 * @param akType the AK's algorithm
 * @param eventLogPath the TCG binary boot event log; a missing file means none
 * @param sealPcrs the PCRs sealing binds to, ascending, unique, at least one
 * @param sealPcrBank the PCR bank sealing uses
 */
public record TpmAgentSettings(String device, int akHandle, AkType akType, Path eventLogPath, List<Integer> sealPcrs,
        TpmHashAlg sealPcrBank) {

    public static final String TPM_DEVICE = "tpm_device";
    public static final String AK_HANDLE = "ak_handle";
    public static final String AK_TYPE = "ak_type";
    public static final String EVENT_LOG_PATH = "event_log_path";
    public static final String SEAL_PCRS = "seal_pcrs";
    public static final String SEAL_PCR_BANK = "seal_pcr_bank";

    public static final int DEFAULT_AK_HANDLE = 0x81010B0E;
    public static final Path DEFAULT_EVENT_LOG = Path.of("/sys/kernel/security/tpm0/binary_bios_measurements");
    public static final List<Integer> DEFAULT_SEAL_PCRS = List.of(0, 2, 4, 7);
    /** Owner persistent handles (TCG Handles Registry): EvictControl with owner authorization can persist there. */
    public static final int MIN_AK_HANDLE = 0x81000000;
    public static final int MAX_AK_HANDLE = 0x817FFFFF;
    public static final int MAX_PCR = 23;

    public static final String AK_HANDLE_INVALID = "must be a persistent handle between 0x81000000 and 0x817FFFFF, "
            + "written as a hex string such as \"0x81010B0E\" or a number";
    public static final String SEAL_PCRS_NOT_LIST = "expected a list of PCR indices such as [0, 2, 4, 7]";
    public static final String SEAL_PCRS_EMPTY = "must name at least one PCR: sealing to no PCR protects nothing";
    public static final String SEAL_PCR_INVALID = "must be a PCR index between 0 and 23";
    public static final String SEAL_PCR_DUPLICATE = "names a PCR twice";
    public static final String SEAL_PCR_BANK_INVALID = "must be one of sha1, sha256, sha384, sha512";
    public static final String EVENT_LOG_NOT_ABSOLUTE = "must be an absolute path";

    private static final Pattern HEX_HANDLE = Pattern.compile("0[xX][0-9a-fA-F]{1,8}");

    public TpmAgentSettings {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(akType, "akType");
        Objects.requireNonNull(eventLogPath, "eventLogPath");
        Objects.requireNonNull(sealPcrBank, "sealPcrBank");
        TpmDevices.check(device).ifPresent(reason -> {
            throw new IllegalArgumentException("tpm device " + reason);
        });
        if (Integer.compareUnsigned(akHandle, MIN_AK_HANDLE) < 0 || Integer.compareUnsigned(akHandle, MAX_AK_HANDLE)
                > 0) {
            throw new IllegalArgumentException("AK handle " + AK_HANDLE_INVALID);
        }
        sealPcrs = List.copyOf(sealPcrs);
        if (sealPcrs.isEmpty()) {
            throw new IllegalArgumentException("seal PCRs " + SEAL_PCRS_EMPTY);
        }
        if (new TreeSet<>(sealPcrs).size() != sealPcrs.size()
                || sealPcrs.stream().anyMatch(pcr -> pcr < 0 || pcr > MAX_PCR)) {
            throw new IllegalArgumentException("seal PCRs must be unique indices between 0 and 23");
        }
        sealPcrs = List.copyOf(new TreeSet<>(sealPcrs));
    }

    /** The defaults, on {@code device}. */
    public static TpmAgentSettings defaults(String device) {
        return new TpmAgentSettings(device, DEFAULT_AK_HANDLE, AkType.ECC_P256, DEFAULT_EVENT_LOG, DEFAULT_SEAL_PCRS,
                TpmHashAlg.SHA256);
    }

    /** A copy with another AK handle and type. */
    public TpmAgentSettings withAk(int handle, AkType type) {
        return new TpmAgentSettings(device, handle, type, eventLogPath, sealPcrs, sealPcrBank);
    }

    /** A copy reading the event log from {@code path}. */
    public TpmAgentSettings withEventLogPath(Path path) {
        return new TpmAgentSettings(device, akHandle, akType, path, sealPcrs, sealPcrBank);
    }

    /** {@link #sealPcrs} as an array. */
    public int[] sealPcrArray() {
        return sealPcrs.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Validates the plugin data, reporting every error at once; never touches the TPM. */
    public static ConfigResult<TpmAgentSettings> validate(PluginConfig plugin) {
        ConfigReader data = plugin.pluginDataReader();
        String device = data.optionalString(TPM_DEVICE, TpmDevices.DEFAULT_DEVICE);
        if (data.contains(TPM_DEVICE)) {
            TpmDevices.check(device).ifPresent(reason -> data.error(TPM_DEVICE, reason));
        }
        int akHandle = akHandle(data);
        AkType akType = data.optionalChoice(AK_TYPE, List.of(AkType.values()), AkType::configName, AkType.ECC_P256,
                false);
        Path eventLog = data.optionalPath(EVENT_LOG_PATH).orElse(DEFAULT_EVENT_LOG);
        if (!eventLog.isAbsolute()) {
            data.error(EVENT_LOG_PATH, EVENT_LOG_NOT_ABSOLUTE);
        }
        List<Integer> sealPcrs = sealPcrs(data);
        TpmHashAlg bank = TpmHashAlg.SHA256;
        Optional<String> bankName = data.optionalString(SEAL_PCR_BANK);
        if (bankName.isPresent()) {
            Optional<TpmHashAlg> parsed = Arrays.stream(TpmHashAlg.values())
                    .filter(alg -> alg.configName().equals(bankName.get())).findFirst();
            if (parsed.isEmpty()) {
                data.error(SEAL_PCR_BANK, SEAL_PCR_BANK_INVALID);
            } else {
                bank = parsed.get();
            }
        }
        data.rejectUnknownKeys();
        if (!data.errors().isEmpty()) {
            return new ConfigResult.Invalid<>(data.errors());
        }
        return new ConfigResult.Valid<>(new TpmAgentSettings(device, akHandle, akType, eventLog, sealPcrs, bank),
                data.warnings());
    }

    private static int akHandle(ConfigReader data) {
        Optional<Object> raw = data.raw(AK_HANDLE);
        if (!data.contains(AK_HANDLE)) {
            return DEFAULT_AK_HANDLE;
        }
        Object value = raw.orElse(null);
        long handle = -1;
        if (value instanceof String text && HEX_HANDLE.matcher(text).matches()) {
            handle = Long.parseLong(text.substring(2), 16);
        } else if (value instanceof Double number && number == Math.rint(number) && !number.isInfinite()) {
            handle = number.longValue();
        }
        if (handle < Integer.toUnsignedLong(MIN_AK_HANDLE) || handle > Integer.toUnsignedLong(MAX_AK_HANDLE)) {
            data.error(AK_HANDLE, AK_HANDLE_INVALID);
            return DEFAULT_AK_HANDLE;
        }
        return (int) handle;
    }

    private static List<Integer> sealPcrs(ConfigReader data) {
        Optional<Object> raw = data.raw(SEAL_PCRS);
        if (!data.contains(SEAL_PCRS)) {
            return DEFAULT_SEAL_PCRS;
        }
        if (!(raw.orElse(null) instanceof List<?> list)) {
            data.error(SEAL_PCRS, SEAL_PCRS_NOT_LIST);
            return DEFAULT_SEAL_PCRS;
        }
        if (list.isEmpty()) {
            data.error(SEAL_PCRS, SEAL_PCRS_EMPTY);
            return DEFAULT_SEAL_PCRS;
        }
        List<Integer> pcrs = new ArrayList<>();
        boolean valid = true;
        for (int i = 0; i < list.size(); i++) {
            Object element = list.get(i);
            String key = SEAL_PCRS + "[" + i + "]";
            if (!(element instanceof Double number) || number != Math.rint(number) || number < 0
                    || number > MAX_PCR) {
                data.error(key, SEAL_PCR_INVALID);
                valid = false;
            } else if (pcrs.contains(number.intValue())) {
                data.error(key, SEAL_PCR_DUPLICATE);
                valid = false;
            } else {
                pcrs.add(number.intValue());
            }
        }
        return valid ? pcrs : DEFAULT_SEAL_PCRS;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "TpmAgentSettings[device=%s, akHandle=0x%08X, akType=%s, eventLogPath=%s, "
                + "sealPcrs=%s, sealPcrBank=%s]", device, akHandle, akType.configName(), eventLogPath, sealPcrs,
                sealPcrBank.configName());
    }
}
