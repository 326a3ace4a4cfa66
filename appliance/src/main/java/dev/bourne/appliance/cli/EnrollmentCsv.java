package dev.bourne.appliance.cli;

import com.google.protobuf.ByteString;
import dev.bourne.api.v1.CreateEnrollmentRequest;
import dev.bourne.appliance.datastore.Limits;
import dev.bourne.tpm.common.EkHash;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A bulk enrolment file for {@code bourne-server tpm enroll -csv FILE}: a header line naming the columns, then one TPM
 * per line.
 *
 * <pre>
 * ek_hash,ek_cert,ek_pub,labels,pcr_policy
 * 3f2a...64 hex digits...,,,rack=r12;role=db,prod-boot
 * ,certs/node-17.pem,,rack=r12,
 * ,,keys/node-18.der,,
 * </pre>
 *
 * <ul>
 *   <li>Columns in any order; {@code labels} and {@code pcr_policy} optional, and at least one of {@code ek_hash},
 *       {@code ek_cert}, {@code ek_pub}. Each row fills exactly one of those three.</li>
 *   <li>{@code ek_cert} and {@code ek_pub} are paths (relative to the CSV file's directory) of PEM or DER files, read
 *       and checked as the {@code -ekCert} and {@code -ekPub} flags do.</li>
 *   <li>{@code labels}: {@code key=value} pairs separated by {@code ;} (so a value cannot hold a {@code ;}).</li>
 *   <li>Fields may be double-quoted (RFC 4180, {@code ""} for a quote) to hold commas; one line per row. Empty lines
 *       and lines starting with {@code #} are skipped. UTF-8, at most {@link #MAX_ROWS} rows.</li>
 * </ul>
 *
 * <p>The whole file is checked before anything is sent: every error is reported with its line and column, and a file
 * with any error enrols nothing. The same EK twice in one file is an error too.
 */
final class EnrollmentCsv {
    static final int MAX_ROWS = 1000;
    static final int MAX_FILE_BYTES = 1024 * 1024;
    static final List<String> COLUMNS = List.of("ek_hash", "ek_cert", "ek_pub", "labels", "pcr_policy");

    static final String FILE_TOO_LARGE = "is larger than " + MAX_FILE_BYTES + " bytes";
    static final String NOT_UTF8 = "is not UTF-8 text";
    static final String NO_HEADER = "has no header line (" + String.join(",", COLUMNS) + ")";
    static final String NO_ROWS = "has no rows after its header";
    static final String TOO_MANY_ROWS = "has more than " + MAX_ROWS + " rows: split it";
    static final String CONTROL_CHARACTERS = "contains control characters";
    /** Format argument: the column name as written (control characters were refused before). */
    static final String UNKNOWN_COLUMN = "unknown column \"%s\" (known: " + String.join(", ", COLUMNS) + ")";
    static final String DUPLICATE_COLUMN = "column named twice";
    static final String NO_EK_COLUMN = "needs at least one of the columns ek_hash, ek_cert, ek_pub";
    static final String UNTERMINATED_QUOTE = "a quoted field is not closed on this line";
    static final String QUOTE_IN_FIELD = "a quote inside an unquoted field, or text after a closing quote";
    /** Format arguments: fields found, columns in the header. */
    static final String FIELD_COUNT = "has %d fields, the header names %d columns";
    static final String ONE_EK = "exactly one of ek_hash, ek_cert and ek_pub must be filled";
    static final String LABEL_SYNTAX = "each label must be key=value, labels separated by ';'";
    /** Format argument: the label key (already checked to be a valid key). */
    static final String LABEL_DUPLICATE = "label %s is given twice";
    /** Format argument: the earlier line. */
    static final String DUPLICATE_EK = "the same EK as line %d";

    /** One checked row: its line number (1-based, as editors show it) and the request to send. */
    record Row(int line, String ekHash, CreateEnrollmentRequest request) {
    }

    /** The file had errors; {@link #errors()} lists each as {@code line N, column C: reason}, in line order. */
    static final class InvalidCsvException extends Exception {
        private static final long serialVersionUID = 1L;
        private final List<String> errors;

        InvalidCsvException(List<String> errors) {
            super(errors.size() + (errors.size() == 1 ? " error" : " errors"));
            this.errors = List.copyOf(errors);
        }

        List<String> errors() {
            return errors;
        }
    }

    private EnrollmentCsv() {
    }

    /**
     * Reads and checks a whole CSV file, including the EK files it names.
     *
     * @throws InvalidCsvException listing every error found
     */
    static List<Row> read(Path csv) throws InvalidCsvException {
        String text = text(csv);
        Path base = csv.toAbsolutePath().getParent();
        String[] lines = text.split("\r?\n", -1);
        List<String> errors = new ArrayList<>();
        List<Row> rows = new ArrayList<>();
        Map<String, Integer> header = null;
        Map<String, Integer> seenEks = new HashMap<>();
        int rowCount = 0;
        for (int i = 0; i < lines.length; i++) {
            int lineNumber = i + 1;
            String line = lines[i];
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            if (hasControlCharacters(line)) {
                errors.add(at(lineNumber, null, CONTROL_CHARACTERS));
                continue;
            }
            List<String> fields;
            try {
                fields = fields(line);
            } catch (IllegalArgumentException e) {
                errors.add(at(lineNumber, null, e.getMessage()));
                if (header == null) {
                    break;
                }
                continue;
            }
            if (header == null) {
                header = header(lineNumber, fields, errors);
                if (header == null) {
                    break;
                }
                continue;
            }
            if (++rowCount > MAX_ROWS) {
                errors.add(at(lineNumber, null, TOO_MANY_ROWS));
                break;
            }
            if (fields.size() != header.size()) {
                errors.add(at(lineNumber, null, String.format(FIELD_COUNT, fields.size(), header.size())));
                continue;
            }
            Row row = row(lineNumber, header, fields, base, errors);
            if (row != null) {
                Integer earlier = seenEks.putIfAbsent(row.ekHash(), lineNumber);
                if (earlier != null) {
                    errors.add(at(lineNumber, ekColumn(row.request()), String.format(DUPLICATE_EK, earlier)));
                } else {
                    rows.add(row);
                }
            }
        }
        if (header == null && errors.isEmpty()) {
            errors.add(at(0, null, NO_HEADER));
        } else if (header != null && rowCount == 0 && errors.isEmpty()) {
            errors.add(at(0, null, NO_ROWS));
        }
        if (!errors.isEmpty()) {
            throw new InvalidCsvException(errors);
        }
        return rows;
    }

    private static String text(Path csv) throws InvalidCsvException {
        byte[] bytes;
        try {
            if (Files.size(csv) > MAX_FILE_BYTES) {
                throw new InvalidCsvException(List.of(at(0, null, FILE_TOO_LARGE)));
            }
            bytes = Files.readAllBytes(csv);
        } catch (NoSuchFileException e) {
            throw new InvalidCsvException(List.of(at(0, null, EkFiles.NO_SUCH_FILE)));
        } catch (IOException e) {
            throw new InvalidCsvException(List.of(at(0, null, EkFiles.UNREADABLE)));
        }
        if (bytes.length > MAX_FILE_BYTES) {
            throw new InvalidCsvException(List.of(at(0, null, FILE_TOO_LARGE)));
        }
        try {
            String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(bytes))
                    .toString();
            return text.startsWith("\uFEFF") ? text.substring(1) : text;
        } catch (CharacterCodingException e) {
            throw new InvalidCsvException(List.of(at(0, null, NOT_UTF8)));
        }
    }

    /** {@code line N, column C: reason}; line 0 means the whole file, a null column the whole line. */
    static String at(int line, String column, String reason) {
        if (line == 0) {
            return reason;
        }
        return "line " + line + (column == null ? "" : ", column " + column) + ": " + reason;
    }

    private static boolean hasControlCharacters(String line) {
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (Character.isISOControl(c) && c != '\t') {
                return true;
            }
        }
        return false;
    }

    private static Map<String, Integer> header(int line, List<String> fields, List<String> errors) {
        Map<String, Integer> header = new LinkedHashMap<>();
        int before = errors.size();
        for (int i = 0; i < fields.size(); i++) {
            String name = fields.get(i).strip();
            if (!COLUMNS.contains(name)) {
                errors.add(at(line, null, String.format(UNKNOWN_COLUMN, name)));
            } else if (header.putIfAbsent(name, i) != null) {
                errors.add(at(line, name, DUPLICATE_COLUMN));
            }
        }
        if (errors.size() == before && !header.containsKey("ek_hash") && !header.containsKey("ek_cert")
                && !header.containsKey("ek_pub")) {
            errors.add(at(line, null, NO_EK_COLUMN));
        }
        return errors.size() == before ? header : null;
    }

    private static Row row(int line, Map<String, Integer> header, List<String> fields, Path base,
            List<String> errors) {
        int before = errors.size();
        Map<String, String> values = new HashMap<>();
        header.forEach((name, index) -> values.put(name, fields.get(index).strip()));
        CreateEnrollmentRequest.Builder request = CreateEnrollmentRequest.newBuilder();
        String ekHash = null;
        List<String> filled = new ArrayList<>();
        for (String column : List.of("ek_hash", "ek_cert", "ek_pub")) {
            if (!values.getOrDefault(column, "").isEmpty()) {
                filled.add(column);
            }
        }
        if (filled.size() != 1) {
            errors.add(at(line, null, ONE_EK));
        } else {
            String column = filled.get(0);
            String value = values.get(column);
            try {
                switch (column) {
                    case "ek_hash" -> {
                        ekHash = EkHash.parse(value);
                        request.setEkHash(ekHash);
                    }
                    case "ek_cert" -> {
                        EkFiles.Ek ek = EkFiles.read(base.resolve(value), EkFiles.Kind.CERTIFICATE);
                        ekHash = ek.ekHash();
                        request.setEkCertificate(ByteString.copyFrom(ek.der()));
                    }
                    default -> {
                        EkFiles.Ek ek = EkFiles.read(base.resolve(value), EkFiles.Kind.PUBLIC_KEY);
                        ekHash = ek.ekHash();
                        request.setEkPublic(ByteString.copyFrom(ek.der()));
                    }
                }
            } catch (IllegalArgumentException e) {
                // InvalidPathException (a subclass) quotes the path with its reason; give ours instead.
                String reason = e instanceof java.nio.file.InvalidPathException ? EkFiles.UNREADABLE : e.getMessage();
                errors.add(at(line, column, column.equals("ek_hash") ? reason : quoted(value) + " " + reason));
            }
        }
        String labels = values.getOrDefault("labels", "");
        if (!labels.isEmpty()) {
            try {
                request.putAllLabels(labels(labels));
            } catch (IllegalArgumentException e) {
                errors.add(at(line, "labels", e.getMessage()));
            }
        }
        String policy = values.getOrDefault("pcr_policy", "");
        if (!policy.isEmpty()) {
            if (Limits.isPcrPolicyName(policy)) {
                request.setPcrPolicy(policy);
            } else {
                errors.add(at(line, "pcr_policy", Limits.PCR_POLICY_NAME_INVALID));
            }
        }
        return errors.size() == before ? new Row(line, ekHash, request.build()) : null;
    }

    private static String quoted(String path) {
        return "\"" + path + "\"";
    }

    /** {@code k=v;k=v}, each checked as the server checks labels. */
    static Map<String, String> labels(String text) {
        Map<String, String> labels = new TreeMap<>();
        for (String pair : text.split(";", -1)) {
            String label = pair.strip();
            int eq = label.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException(LABEL_SYNTAX);
            }
            String key = label.substring(0, eq);
            String value = label.substring(eq + 1);
            if (!Limits.isTpmLabelKey(key)) {
                throw new IllegalArgumentException(Limits.TPM_LABEL_KEY_INVALID);
            }
            if (!Limits.isTpmLabelValue(value)) {
                throw new IllegalArgumentException("label " + key + " " + Limits.TPM_LABEL_VALUE_INVALID);
            }
            if (labels.put(key, value) != null) {
                throw new IllegalArgumentException(String.format(LABEL_DUPLICATE, key));
            }
        }
        if (labels.size() > Limits.MAX_TPM_LABELS) {
            throw new IllegalArgumentException(Limits.TOO_MANY_TPM_LABELS);
        }
        return labels;
    }

    /** The fields of one CSV line (RFC 4180 quoting, no line breaks inside a field). */
    static List<String> fields(String line) {
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        int i = 0;
        boolean quoted = false;
        boolean afterQuote = false;
        while (i < line.length()) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"') {
                    if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
                        field.append('"');
                        i++;
                    } else {
                        quoted = false;
                        afterQuote = true;
                    }
                } else {
                    field.append(c);
                }
            } else if (c == ',') {
                fields.add(field.toString());
                field.setLength(0);
                afterQuote = false;
            } else if (c == '"') {
                if (afterQuote || !field.toString().isBlank()) {
                    throw new IllegalArgumentException(QUOTE_IN_FIELD);
                }
                field.setLength(0);
                quoted = true;
            } else if (afterQuote && !Character.isWhitespace(c)) {
                throw new IllegalArgumentException(QUOTE_IN_FIELD);
            } else {
                field.append(c);
            }
            i++;
        }
        if (quoted) {
            throw new IllegalArgumentException(UNTERMINATED_QUOTE);
        }
        fields.add(field.toString());
        return fields;
    }

    private static String ekColumn(CreateEnrollmentRequest request) {
        return switch (request.getEkCase()) {
            case EK_CERTIFICATE -> "ek_cert";
            case EK_PUBLIC -> "ek_pub";
            default -> "ek_hash";
        };
    }
}
