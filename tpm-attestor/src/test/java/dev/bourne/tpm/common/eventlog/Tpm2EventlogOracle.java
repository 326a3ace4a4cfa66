package dev.bourne.tpm.common.eventlog;

import dev.bourne.testing.Exec;
import dev.bourne.testing.RequiredTool;
import dev.bourne.tpm.common.TpmHashAlg;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The independent oracle: what tpm2-tools' {@code tpm2_eventlog FILE} says a log replays to, read from the
 * {@code pcrs:} section of its YAML ({@code bank:} lines, then {@code index : 0xhex} lines).
 */
final class Tpm2EventlogOracle {
    private static final Pattern BANK = Pattern.compile("^  ([a-z0-9_]+):\\s*$");
    private static final Pattern PCR = Pattern.compile("^    (\\d+)\\s*: 0x([0-9a-fA-F]+)\\s*$");

    /** The tool's verdict: its exit code, and the PCR values it printed when it succeeded. */
    record Verdict(int exitCode, Map<TpmHashAlg, SortedMap<Integer, String>> pcrs, String stderr) {
        boolean accepted() {
            return exitCode == 0;
        }
    }

    private Tpm2EventlogOracle() {
    }

    static Verdict run(Path log) {
        Exec.Result result = Exec.run(List.of(RequiredTool.TPM2_EVENTLOG.path().toString(), log.toString()),
                Map.of(), Duration.ofSeconds(60));
        if (result.exitCode() != 0) {
            return new Verdict(result.exitCode(), Map.of(), result.stderr());
        }
        return new Verdict(0, parsePcrs(result.stdout()), result.stderr());
    }

    /** Bank to PCR index to lowercase hex, from the YAML's {@code pcrs:} section. */
    static Map<TpmHashAlg, SortedMap<Integer, String>> parsePcrs(String yaml) {
        Map<TpmHashAlg, SortedMap<Integer, String>> banks = new EnumMap<>(TpmHashAlg.class);
        boolean inPcrs = false;
        SortedMap<Integer, String> current = null;
        for (String line : yaml.split("\n")) {
            if (line.equals("pcrs:")) {
                inPcrs = true;
                continue;
            }
            if (!inPcrs) {
                continue;
            }
            Matcher bank = BANK.matcher(line);
            Matcher pcr = PCR.matcher(line);
            if (bank.matches()) {
                TpmHashAlg alg = TpmHashAlg.fromConfigName(bank.group(1)).orElseThrow(
                        () -> new IllegalStateException("tpm2_eventlog printed an unknown bank: " + line));
                current = new TreeMap<>();
                banks.put(alg, current);
            } else if (pcr.matches() && current != null) {
                current.put(Integer.parseInt(pcr.group(1)), pcr.group(2).toLowerCase());
            } else if (!line.isBlank()) {
                throw new IllegalStateException("unexpected line in tpm2_eventlog's pcrs section: " + line);
            }
        }
        if (!inPcrs) {
            throw new IllegalStateException("tpm2_eventlog printed no pcrs section");
        }
        return banks;
    }

    /** Our replay in the oracle's shape: banks with at least one PCR, values as lowercase hex. */
    static Map<TpmHashAlg, SortedMap<Integer, String>> hex(EventLog log) {
        Map<TpmHashAlg, SortedMap<Integer, String>> banks = new EnumMap<>(TpmHashAlg.class);
        log.replay().forEach((bank, pcrs) -> {
            if (!pcrs.isEmpty()) {
                SortedMap<Integer, String> values = new TreeMap<>();
                pcrs.forEach((pcr, value) -> values.put(pcr, HexFormat.of().formatHex(value)));
                banks.put(bank, values);
            }
        });
        return banks;
    }
}
