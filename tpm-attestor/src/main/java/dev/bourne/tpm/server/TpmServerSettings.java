package dev.bourne.tpm.server;

import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigReader;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.tpm.common.TpmHashAlg;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The validated {@code plugin_data} of {@code NodeAttestor "tpm"} on the server:
 *
 * <pre>{@code
 * NodeAttestor "tpm" {
 *     plugin_data {
 *         ek_trust = "either"                       # enrolled (default) | ca | either | both
 *         ek_ca_paths = ["/etc/bourne/tpm-ca"]      # files or directories; required unless ek_trust = "enrolled"
 *         pcr_bank = "sha256"                       # default
 *         quote_pcrs = [0, 1, 2, 3, 4, 5, 6, 7]     # default; the quote covers these and every policy's PCRs
 *         pcr_policies = {
 *             "golden-2026" = { "0" = ["ab12..."], "7" = ["cd34...", "ef56..."] }
 *         }
 *         require_pcr_policy = true                 # default: true when any policy is configured
 *         evict_on_drift = false                    # default
 *         challenge_timeout = "30s"                 # default
 *     }
 * }
 * }</pre>
 *
 * <p>{@link #validate} is pure: it reports every error at once and reads no file. The CA certificates are read by
 * {@link #loadEkCaStore}, which reports unreadable ones as errors of {@code ek_ca_paths}.
 *
 * @param ekTrust how EKs are trusted
 * @param ekCaPaths manufacturer CA certificate files and directories (empty for {@link EkTrustMode#ENROLLED})
 * @param pcrBank the PCR bank quoted and matched against policies
 * @param quotePcrs the PCRs configured to be quoted (before adding the policies' PCRs)
 * @param pcrPolicies the named policies and whether one is required
 * @param evictOnDrift whether a renewal refused for PCR drift evicts the agent
 * @param challengeTimeout how long a challenge may stay unanswered
 */
public record TpmServerSettings(EkTrustMode ekTrust, List<Path> ekCaPaths, TpmHashAlg pcrBank,
        SortedSet<Integer> quotePcrs, PcrPolicies pcrPolicies, boolean evictOnDrift, Duration challengeTimeout) {

    public static final String EK_TRUST = "ek_trust";
    public static final String EK_CA_PATHS = "ek_ca_paths";
    public static final String PCR_BANK = "pcr_bank";
    public static final String QUOTE_PCRS = "quote_pcrs";
    public static final String PCR_POLICIES = "pcr_policies";
    public static final String REQUIRE_PCR_POLICY = "require_pcr_policy";
    public static final String EVICT_ON_DRIFT = "evict_on_drift";
    public static final String CHALLENGE_TIMEOUT = "challenge_timeout";

    public static final EkTrustMode DEFAULT_EK_TRUST = EkTrustMode.ENROLLED;
    public static final TpmHashAlg DEFAULT_PCR_BANK = TpmHashAlg.SHA256;
    /** PCRs 0-7: the firmware's measurements of the platform (PC Client Platform Firmware Profile). */
    public static final SortedSet<Integer> DEFAULT_QUOTE_PCRS = Collections.unmodifiableSortedSet(
            new TreeSet<>(List.of(0, 1, 2, 3, 4, 5, 6, 7)));
    public static final Duration DEFAULT_CHALLENGE_TIMEOUT = Duration.ofSeconds(30);
    /** Longest challenge timeout: a challenge is single use, a long-lived one only holds memory. */
    public static final Duration MAX_CHALLENGE_TIMEOUT = Duration.ofMinutes(10);
    /** Most PCR policies (each one is evaluated on every attestation and renewal). */
    public static final int MAX_POLICIES = 256;
    /** Most allowed digests for one PCR of one policy. */
    public static final int MAX_DIGESTS_PER_PCR = 256;

    public static final String CA_PATHS_REQUIRED = "is required when ek_trust is \"ca\", \"either\" or \"both\"";
    public static final String CA_PATHS_UNUSED = "is ignored: ek_trust is \"enrolled\"";
    public static final String PATH_INVALID = "is not a valid path";
    public static final String PCR_LIST_EMPTY = "must list at least one PCR";
    public static final String PCR_INDEX_INVALID = "must be a PCR index from 0 to 23";
    public static final String PCR_DUPLICATE = "lists a PCR twice";
    public static final String POLICIES_NOT_A_MAP = "expected a map of policy names to maps of PCR index to digests, "
            + "such as { \"golden\" = { \"0\" = [\"ab12...\"] } }";
    public static final String POLICY_NOT_A_MAP = "expected a map of PCR index to a list of digests, such as "
            + "{ \"0\" = [\"ab12...\"] }";
    public static final String POLICY_EMPTY = "lists no PCRs";
    public static final String TOO_MANY_POLICIES = "has more than " + MAX_POLICIES + " policies";
    public static final String DIGESTS_NOT_A_LIST = "expected a list of hex digests";
    public static final String DIGESTS_EMPTY = "must allow at least one digest";
    public static final String TOO_MANY_DIGESTS = "allows more than " + MAX_DIGESTS_PER_PCR + " digests";
    public static final String REQUIRE_WITHOUT_POLICIES = "is true but no pcr_policies are configured";
    public static final String TIMEOUT_TOO_LONG = "must be at most " + MAX_CHALLENGE_TIMEOUT.toMinutes() + "m";

    private static final Pattern INDEX = Pattern.compile("0|[1-9][0-9]?");

    public TpmServerSettings {
        Objects.requireNonNull(ekTrust, "ekTrust");
        ekCaPaths = List.copyOf(ekCaPaths);
        Objects.requireNonNull(pcrBank, "pcrBank");
        quotePcrs = Collections.unmodifiableSortedSet(new TreeSet<>(quotePcrs));
        Objects.requireNonNull(pcrPolicies, "pcrPolicies");
        Objects.requireNonNull(challengeTimeout, "challengeTimeout");
        if (ekTrust.usesCertificates() && ekCaPaths.isEmpty()) {
            throw new IllegalArgumentException(EK_CA_PATHS + " " + CA_PATHS_REQUIRED);
        }
        for (PcrPolicy policy : pcrPolicies.policies().values()) {
            if (policy.bank() != pcrBank) {
                throw new IllegalArgumentException("PCR policy " + policy.name() + " is for bank "
                        + policy.bank().configName() + ", the quote's bank is " + pcrBank.configName());
            }
        }
        if (quotePcrs.isEmpty() && pcrPolicies.pcrs().isEmpty()) {
            throw new IllegalArgumentException(QUOTE_PCRS + " " + PCR_LIST_EMPTY);
        }
        if (challengeTimeout.isNegative() || challengeTimeout.isZero()
                || challengeTimeout.compareTo(MAX_CHALLENGE_TIMEOUT) > 0) {
            throw new IllegalArgumentException("challengeTimeout out of range: " + challengeTimeout);
        }
    }

    /** The PCRs every quote covers: {@link #quotePcrs} and every policy's PCRs. */
    public SortedSet<Integer> quoteSelection() {
        SortedSet<Integer> all = new TreeSet<>(quotePcrs);
        all.addAll(pcrPolicies.pcrs());
        return Collections.unmodifiableSortedSet(all);
    }

    /** Settings with every default and enrolment-based trust: what {@code plugin_data {}} means. */
    public static TpmServerSettings defaults() {
        return new TpmServerSettings(DEFAULT_EK_TRUST, List.of(), DEFAULT_PCR_BANK, DEFAULT_QUOTE_PCRS,
                new PcrPolicies(Map.of(), false), false, DEFAULT_CHALLENGE_TIMEOUT);
    }

    /** Validates the plugin data, reporting every error at once; reads no file. */
    public static ConfigResult<TpmServerSettings> validate(PluginConfig plugin) {
        ConfigReader data = plugin.pluginDataReader();
        EkTrustMode ekTrust = data.optionalChoice(EK_TRUST, EkTrustMode.all(), EkTrustMode::configName,
                DEFAULT_EK_TRUST, false);

        List<Path> caPaths = new ArrayList<>();
        List<String> caTexts = data.optionalStringList(EK_CA_PATHS);
        for (int i = 0; i < caTexts.size(); i++) {
            String text = caTexts.get(i);
            try {
                if (text.isEmpty()) {
                    throw new InvalidPathException(text, "empty");
                }
                caPaths.add(Path.of(text));
            } catch (InvalidPathException e) {
                data.error(EK_CA_PATHS + "[" + i + "]", PATH_INVALID);
            }
        }
        if (ekTrust.usesCertificates() && data.contains(EK_CA_PATHS) && caTexts.isEmpty()
                && data.errors().stream().noneMatch(e -> e.key().contains(EK_CA_PATHS))) {
            data.error(EK_CA_PATHS, "must list at least one file or directory");
        } else if (ekTrust.usesCertificates() && !data.contains(EK_CA_PATHS)) {
            data.error(EK_CA_PATHS, CA_PATHS_REQUIRED);
        } else if (!ekTrust.usesCertificates() && data.contains(EK_CA_PATHS)) {
            data.warning(EK_CA_PATHS, CA_PATHS_UNUSED);
        }

        TpmHashAlg bank = data.optionalChoice(PCR_BANK, List.of(TpmHashAlg.values()), TpmHashAlg::configName,
                DEFAULT_PCR_BANK, true);

        SortedSet<Integer> quotePcrs = DEFAULT_QUOTE_PCRS;
        Optional<Object> rawQuotePcrs = data.raw(QUOTE_PCRS);
        if (data.contains(QUOTE_PCRS)) {
            quotePcrs = readPcrList(data, rawQuotePcrs.orElse(null));
        }

        Map<String, PcrPolicy> policies = readPolicies(data, bank);

        boolean required = data.optionalBool(REQUIRE_PCR_POLICY, !policies.isEmpty());
        if (required && data.contains(REQUIRE_PCR_POLICY) && policies.isEmpty()
                && data.errors().stream().noneMatch(e -> e.key().contains(PCR_POLICIES))) {
            data.error(REQUIRE_PCR_POLICY, REQUIRE_WITHOUT_POLICIES);
        }
        boolean evictOnDrift = data.optionalBool(EVICT_ON_DRIFT, false);
        Duration timeout = data.optionalDuration(CHALLENGE_TIMEOUT, DEFAULT_CHALLENGE_TIMEOUT);
        if (timeout.compareTo(MAX_CHALLENGE_TIMEOUT) > 0) {
            data.error(CHALLENGE_TIMEOUT, TIMEOUT_TOO_LONG);
        }
        data.rejectUnknownKeys();

        if (!data.errors().isEmpty()) {
            return new ConfigResult.Invalid<>(data.errors());
        }
        return new ConfigResult.Valid<>(new TpmServerSettings(ekTrust, caPaths, bank, quotePcrs,
                new PcrPolicies(policies, required), evictOnDrift, timeout), data.warnings());
    }

    private static SortedSet<Integer> readPcrList(ConfigReader data, Object raw) {
        if (!(raw instanceof List<?> list)) {
            data.error(QUOTE_PCRS, "expected a list of PCR indices, such as [0, 1, 2, 7]");
            return DEFAULT_QUOTE_PCRS;
        }
        if (list.isEmpty()) {
            data.error(QUOTE_PCRS, PCR_LIST_EMPTY);
            return DEFAULT_QUOTE_PCRS;
        }
        SortedSet<Integer> out = new TreeSet<>();
        for (int i = 0; i < list.size(); i++) {
            Optional<Integer> index = pcrIndex(list.get(i));
            if (index.isEmpty()) {
                data.error(QUOTE_PCRS + "[" + i + "]", PCR_INDEX_INVALID);
            } else if (!out.add(index.get())) {
                data.error(QUOTE_PCRS + "[" + i + "]", PCR_DUPLICATE);
            }
        }
        return out.isEmpty() ? DEFAULT_QUOTE_PCRS : out;
    }

    /** A PCR index written as a number (hcl4j: Double) or a decimal string ({@code "7"}, as map keys must be). */
    private static Optional<Integer> pcrIndex(Object value) {
        if (value instanceof Double d && d == Math.rint(d) && d >= 0 && d <= PcrPolicy.MAX_PCR) {
            return Optional.of(d.intValue());
        }
        if (value instanceof String s && INDEX.matcher(s).matches()) {
            int index = Integer.parseInt(s);
            if (index <= PcrPolicy.MAX_PCR) {
                return Optional.of(index);
            }
        }
        return Optional.empty();
    }

    private static Map<String, PcrPolicy> readPolicies(ConfigReader data, TpmHashAlg bank) {
        Optional<Object> raw = data.raw(PCR_POLICIES);
        if (!data.contains(PCR_POLICIES)) {
            return Map.of();
        }
        if (!(raw.orElse(null) instanceof Map<?, ?> byName)) {
            data.error(PCR_POLICIES, POLICIES_NOT_A_MAP);
            return Map.of();
        }
        if (byName.size() > MAX_POLICIES) {
            data.error(PCR_POLICIES, TOO_MANY_POLICIES);
            return Map.of();
        }
        Map<String, PcrPolicy> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> entry : byName.entrySet()) {
            String name = String.valueOf(entry.getKey());
            String key = PCR_POLICIES + "." + name;
            if (!PcrPolicy.NAME.matcher(name).matches()) {
                data.error(key, "policy name " + PcrPolicy.NAME_INVALID);
                continue;
            }
            if (!(entry.getValue() instanceof Map<?, ?> byIndex)) {
                data.error(key, POLICY_NOT_A_MAP);
                continue;
            }
            if (byIndex.isEmpty()) {
                data.error(key, POLICY_EMPTY);
                continue;
            }
            SortedMap<Integer, Set<String>> allowed = new TreeMap<>();
            boolean valid = true;
            for (Map.Entry<?, ?> pcr : byIndex.entrySet()) {
                String indexText = String.valueOf(pcr.getKey());
                String pcrKey = key + "." + indexText;
                Optional<Integer> index = pcrIndex(indexText);
                if (index.isEmpty()) {
                    data.error(pcrKey, PCR_INDEX_INVALID);
                    valid = false;
                    continue;
                }
                if (!(pcr.getValue() instanceof List<?> digests)) {
                    data.error(pcrKey, DIGESTS_NOT_A_LIST);
                    valid = false;
                    continue;
                }
                if (digests.isEmpty()) {
                    data.error(pcrKey, DIGESTS_EMPTY);
                    valid = false;
                    continue;
                }
                if (digests.size() > MAX_DIGESTS_PER_PCR) {
                    data.error(pcrKey, TOO_MANY_DIGESTS);
                    valid = false;
                    continue;
                }
                Set<String> hexes = new LinkedHashSet<>();
                for (int i = 0; i < digests.size(); i++) {
                    Object digest = digests.get(i);
                    if (!(digest instanceof String hex) || !isDigest(hex, bank)) {
                        data.error(pcrKey + "[" + i + "]", digestInvalid(bank));
                        valid = false;
                    } else {
                        hexes.add(hex.toLowerCase(Locale.ROOT));
                    }
                }
                if (allowed.put(index.get(), hexes) != null) {
                    data.error(pcrKey, PCR_DUPLICATE);
                    valid = false;
                }
            }
            if (valid) {
                out.put(name, new PcrPolicy(name, bank, allowed));
            }
        }
        return out;
    }

    /** The reason a digest of a policy is refused: it must fit the configured bank. */
    public static String digestInvalid(TpmHashAlg bank) {
        return "must be a " + bank.configName() + " digest: " + bank.digestLength() * 2 + " hex digits";
    }

    private static boolean isDigest(String hex, TpmHashAlg bank) {
        if (hex.length() != bank.digestLength() * 2) {
            return false;
        }
        for (int i = 0; i < hex.length(); i++) {
            if (Character.digit(hex.charAt(i), 16) < 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Reads the manufacturer CA certificates of {@link #ekCaPaths} (nothing for {@link EkTrustMode#ENROLLED}); every
     * file or certificate that cannot be read is an error of {@code ek_ca_paths}, and so is a store left empty.
     */
    public ConfigResult<EkCaStore> loadEkCaStore(PluginConfig plugin, Clock clock) {
        EkCaStore store = EkCaStore.load(ekCaPaths, clock);
        if (!ekTrust.usesCertificates()) {
            return new ConfigResult.Valid<>(EkCaStore.of(List.of(), clock), List.of());
        }
        List<ConfigError> errors = new ArrayList<>();
        String key = plugin.keyPath() + "." + EK_CA_PATHS;
        for (String problem : store.problems()) {
            errors.add(new ConfigError(plugin.file(), key, problem));
        }
        if (errors.isEmpty() && store.isEmpty()) {
            errors.add(new ConfigError(plugin.file(), key, "holds no certificate"));
        }
        return errors.isEmpty() ? new ConfigResult.Valid<>(store, List.of()) : new ConfigResult.Invalid<>(errors);
    }
}
