package dev.bourne.appliance.cli;

import com.google.protobuf.ByteString;
import dev.bourne.api.v1.BatchCreateEnrollmentRequest;
import dev.bourne.api.v1.BatchCreateEnrollmentResponse;
import dev.bourne.api.v1.CreateEnrollmentRequest;
import dev.bourne.api.v1.Enrollment;
import dev.bourne.api.v1.GetEnrollmentRequest;
import dev.bourne.api.v1.ListEnrollmentsRequest;
import dev.bourne.api.v1.ListEnrollmentsResponse;
import dev.bourne.api.v1.RevokeEnrollmentRequest;
import dev.bourne.appliance.datastore.Limits;
import dev.bourne.tpm.common.EkHash;
import io.grpc.Status;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code bourne-server tpm enroll|list|show|revoke}: a security team's TPM enrolments (by EK certificate, EK public
 * key or EK hash), through the admin API's TpmEnrollment service. The server computes and stores the EK hash; the
 * CLI reads and checks files first, so a malformed file or CSV row is refused before any call.
 */
@Command(name = "tpm", description = "Manage TPM enrolments",
        subcommands = {TpmCommands.Enroll.class, TpmCommands.ListTpms.class, TpmCommands.Show.class,
            TpmCommands.Revoke.class})
final class TpmCommands {
    static final String ONE_SOURCE = "give exactly one of -ekCert, -ekPub, -ekHash and -csv";
    static final String CSV_ALONE = "-label and -pcrPolicy cannot be used with -csv: put them in the file's columns";
    static final String EK_HASH_REQUIRED = "-ekHash is required";
    static final String LABEL_SYNTAX = "must be key=value";
    static final String LABEL_DUPLICATE = "is given twice";
    /** Format arguments: the CSV path, the number of errors. */
    static final String CSV_INVALID = "%s has %d invalid %s: nothing was enrolled";
    /** Format arguments: failed count, total. */
    static final String SOME_FAILED = "%d of %d TPMs were not enrolled";
    /** The batch requests stay below the admin socket's 4 MiB message limit; a CSV of DER keys or hashes is one call. */
    static final int MAX_BATCH_REQUEST_BYTES = 3 * 1024 * 1024;
    static final int PAGE_SIZE = 500;

    private TpmCommands() {
    }

    /** {@code -ekHash HEX}: 64 hex digits, normalised to lowercase. */
    static final class EkHashFlag implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            try {
                return EkHash.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(EkHash.MALFORMED);
            }
        }
    }

    /** {@code -label key=value}, checked as the server checks labels. */
    static final class LabelFlag implements ITypeConverter<Map.Entry<String, String>> {
        @Override
        public Map.Entry<String, String> convert(String value) {
            int eq = value.indexOf('=');
            if (eq <= 0) {
                throw new TypeConversionException(LABEL_SYNTAX);
            }
            String key = value.substring(0, eq);
            String labelValue = value.substring(eq + 1);
            if (!Limits.isTpmLabelKey(key)) {
                throw new TypeConversionException(Limits.TPM_LABEL_KEY_INVALID);
            }
            if (!Limits.isTpmLabelValue(labelValue)) {
                throw new TypeConversionException(Limits.TPM_LABEL_VALUE_INVALID);
            }
            return Map.entry(key, labelValue);
        }
    }

    /** {@code -pcrPolicy NAME}: a well-formed name; whether the server defines it is the server's to say. */
    static final class PcrPolicyFlag implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            if (!Limits.isPcrPolicyName(value)) {
                throw new TypeConversionException(Limits.PCR_POLICY_NAME_INVALID);
            }
            return value;
        }
    }

    @Command(name = "enroll", description = "Enrol TPMs by EK certificate, EK public key or EK hash, or in bulk from a"
            + " CSV file")
    static final class Enroll extends AdminCommand {
        @Option(names = "-ekCert", paramLabel = "FILE", description = "EK certificate, PEM or DER")
        Path ekCert;

        @Option(names = "-ekPub", paramLabel = "FILE",
                description = "EK public key (SubjectPublicKeyInfo), PEM or DER, as tpm2_createek -f pem writes it")
        Path ekPub;

        @Option(names = "-ekHash", paramLabel = "HEX", converter = EkHashFlag.class,
                description = "EK hash: SHA-256 of the EK's DER SubjectPublicKeyInfo, 64 hex digits")
        String ekHash;

        @Option(names = "-label", paramLabel = "key=value", converter = LabelFlag.class,
                description = "A label (repeatable): the node gets the selector tpm:label:<key>:<value>")
        List<Map.Entry<String, String>> labels = new ArrayList<>();

        @Option(names = "-pcrPolicy", paramLabel = "NAME", converter = PcrPolicyFlag.class,
                description = "The PCR policy (from the server configuration) this node must match")
        String pcrPolicy;

        @Option(names = "-csv", paramLabel = "FILE",
                description = "Bulk enrolment: columns ek_hash, ek_cert, ek_pub, labels (k=v;k=v), pcr_policy")
        Path csv;

        private List<EnrollmentCsv.Row> rows;
        private CreateEnrollmentRequest single;

        @Override
        void check() {
            int sources = (ekCert == null ? 0 : 1) + (ekPub == null ? 0 : 1) + (ekHash == null ? 0 : 1)
                    + (csv == null ? 0 : 1);
            if (sources != 1) {
                throw usage(ONE_SOURCE);
            }
            if (csv != null && (!labels.isEmpty() || pcrPolicy != null)) {
                throw usage(CSV_ALONE);
            }
            Map<String, String> seen = new TreeMap<>();
            for (Map.Entry<String, String> label : labels) {
                if (seen.put(label.getKey(), label.getValue()) != null) {
                    throw usage("Invalid value for option '-label' (key=value): " + label.getKey() + " "
                            + LABEL_DUPLICATE);
                }
            }
            if (seen.size() > Limits.MAX_TPM_LABELS) {
                throw usage("Invalid value for option '-label' (key=value): " + Limits.TOO_MANY_TPM_LABELS);
            }
        }

        @Override
        void load() throws CliException {
            if (csv != null) {
                try {
                    rows = EnrollmentCsv.read(csv);
                } catch (EnrollmentCsv.InvalidCsvException e) {
                    PrintWriter err = spec.commandLine().getErr();
                    e.errors().forEach(error -> err.println(csv + ": " + error));
                    throw new CliException(String.format(CSV_INVALID, csv, e.errors().size(),
                            e.errors().size() == 1 ? "entry" : "entries"));
                }
                return;
            }
            CreateEnrollmentRequest.Builder request = CreateEnrollmentRequest.newBuilder();
            if (ekHash != null) {
                request.setEkHash(ekHash);
            } else if (ekCert != null) {
                request.setEkCertificate(ByteString.copyFrom(read("-ekCert", ekCert, EkFiles.Kind.CERTIFICATE)));
            } else {
                request.setEkPublic(ByteString.copyFrom(read("-ekPub", ekPub, EkFiles.Kind.PUBLIC_KEY)));
            }
            labels.forEach(label -> request.putLabels(label.getKey(), label.getValue()));
            if (pcrPolicy != null) {
                request.setPcrPolicy(pcrPolicy);
            }
            single = request.build();
        }

        private static byte[] read(String flag, Path file, EkFiles.Kind kind) throws CliException {
            try {
                return EkFiles.read(file, kind).der();
            } catch (IllegalArgumentException e) {
                throw new CliException(flag + " " + file + ": " + e.getMessage());
            }
        }

        @Override
        int run(AdminClient client, PrintWriter out) throws CliException {
            if (single != null) {
                Enrollment created = client.tpmEnrollments().createEnrollment(single);
                if (json()) {
                    out.println(json(created));
                } else {
                    out.println("TPM enrolled");
                    out.println();
                    Pretty.enrollment(out, created, false);
                }
                return ServerCli.OK;
            }
            return runCsv(client, out);
        }

        private int runCsv(AdminClient client, PrintWriter out) throws CliException {
            BatchCreateEnrollmentResponse.Builder all = BatchCreateEnrollmentResponse.newBuilder();
            BatchCreateEnrollmentRequest.Builder batch = BatchCreateEnrollmentRequest.newBuilder();
            for (EnrollmentCsv.Row row : rows) {
                if (batch.getEnrollmentsCount() > 0
                        && batch.build().getSerializedSize() + row.request().getSerializedSize() + 16
                            > MAX_BATCH_REQUEST_BYTES) {
                    all.addAllResults(send(client, batch.build()));
                    batch.clear();
                }
                batch.addEnrollments(row.request());
            }
            all.addAllResults(send(client, batch.build()));
            BatchCreateEnrollmentResponse response = all.build();
            int failed = 0;
            for (int i = 0; i < rows.size(); i++) {
                BatchCreateEnrollmentResponse.Result result = response.getResults(i);
                EnrollmentCsv.Row row = rows.get(i);
                if (result.getStatus().getCode() == Status.Code.OK.value()) {
                    if (!json()) {
                        out.println("line " + row.line() + ": enrolled " + result.getEnrollment().getEkHash());
                    }
                } else {
                    failed++;
                    if (!json()) {
                        out.println("line " + row.line() + ": " + row.ekHash() + ": "
                                + ServerCli.statusMessage(Status.fromCodeValue(result.getStatus().getCode())
                                        .withDescription(result.getStatus().getMessage())));
                    }
                }
            }
            if (json()) {
                out.println(json(response));
            } else {
                out.println("Enrolled " + (rows.size() - failed) + " of " + rows.size() + " TPMs");
            }
            if (failed > 0) {
                out.flush();
                throw new CliException(String.format(SOME_FAILED, failed, rows.size()));
            }
            return ServerCli.OK;
        }

        private static List<BatchCreateEnrollmentResponse.Result> send(AdminClient client,
                BatchCreateEnrollmentRequest request) throws CliException {
            BatchCreateEnrollmentResponse response = client.tpmEnrollments().batchCreateEnrollment(request);
            if (response.getResultsCount() != request.getEnrollmentsCount()) {
                throw new CliException("the server answered " + response.getResultsCount() + " results for "
                        + request.getEnrollmentsCount() + " enrolments");
            }
            return response.getResultsList();
        }
    }

    @Command(name = "list", description = "List TPM enrolments")
    static final class ListTpms extends AdminCommand {
        @Option(names = "-revoked", arity = "0..1", description = "Only revoked (true) or only active (false)")
        Boolean revoked;

        @Override
        int run(AdminClient client, PrintWriter out) {
            ListEnrollmentsRequest.Filter.Builder filter = ListEnrollmentsRequest.Filter.newBuilder();
            if (revoked != null) {
                filter.setByRevoked(revoked ? 1 : 2);
            }
            List<Enrollment> enrollments = new ArrayList<>();
            String token = "";
            do {
                ListEnrollmentsResponse page = client.tpmEnrollments().listEnrollments(ListEnrollmentsRequest
                        .newBuilder().setFilter(filter).setPageSize(PAGE_SIZE).setPageToken(token).build());
                enrollments.addAll(page.getEnrollmentsList());
                token = page.getNextPageToken();
            } while (!token.isEmpty());
            if (json()) {
                out.println(json(ListEnrollmentsResponse.newBuilder().addAllEnrollments(enrollments).build()));
                return ServerCli.OK;
            }
            if (enrollments.isEmpty()) {
                out.println("No TPM enrolments found");
                return ServerCli.OK;
            }
            out.println("Found " + enrollments.size() + " TPM " + (enrollments.size() == 1 ? "enrolment" : "enrolments")
                    + ":");
            out.println();
            enrollments.forEach(e -> Pretty.enrollment(out, e, false));
            return ServerCli.OK;
        }
    }

    /** A command about one enrolment, named by {@code -ekHash}. */
    abstract static class OneTpm extends AdminCommand {
        @Option(names = "-ekHash", paramLabel = "HEX", converter = EkHashFlag.class, description = "The EK hash")
        String ekHash;

        @Override
        void check() {
            if (ekHash == null) {
                throw usage(EK_HASH_REQUIRED);
            }
        }
    }

    @Command(name = "show", description = "Show a TPM enrolment, with its EK certificate when it has one")
    static final class Show extends OneTpm {
        @Override
        int run(AdminClient client, PrintWriter out) {
            Enrollment enrollment = client.tpmEnrollments().getEnrollment(GetEnrollmentRequest.newBuilder()
                    .setEkHash(ekHash).build());
            if (json()) {
                out.println(json(enrollment));
            } else {
                Pretty.enrollment(out, enrollment, true);
            }
            return ServerCli.OK;
        }
    }

    @Command(name = "revoke", description = "Revoke a TPM enrolment: the node's next attestation or renewal fails")
    static final class Revoke extends OneTpm {
        @Override
        int run(AdminClient client, PrintWriter out) {
            Enrollment revoked = client.tpmEnrollments().revokeEnrollment(RevokeEnrollmentRequest.newBuilder()
                    .setEkHash(ekHash).build());
            if (json()) {
                out.println(json(revoked));
            } else {
                out.println("TPM enrolment revoked");
                out.println();
                Pretty.enrollment(out, revoked, false);
            }
            return ServerCli.OK;
        }
    }
}
