package dev.bourne.appliance.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.bourne.api.v1.BatchCreateEnrollmentRequest;
import dev.bourne.api.v1.BatchCreateEnrollmentResponse;
import dev.bourne.api.v1.CreateEnrollmentRequest;
import dev.bourne.api.v1.Enrollment;
import dev.bourne.api.v1.GetEnrollmentRequest;
import dev.bourne.api.v1.ListEnrollmentsRequest;
import dev.bourne.api.v1.ListEnrollmentsResponse;
import dev.bourne.api.v1.RevokeEnrollmentRequest;
import dev.bourne.api.v1.TpmEnrollmentGrpc;
import dev.bourne.appliance.datastore.DataStoreErrors;
import dev.bourne.appliance.datastore.Limits;
import dev.bourne.appliance.server.AdminSocketServer;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.pki.TestKeys;
import dev.bourne.tpm.common.EkHash;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TpmEnrollment admin service over the real admin Unix socket ({@link AdminSocketServer}, epoll), on a real
 * SQLite datastore; one server runs without a {@code tpm} attestor, another with PCR policies "prod-boot" and "lab".
 */
class TpmEnrollmentAdminServiceTest {
    static final TestCa CA = TestCa.root("example.org");

    @TempDir
    Path dir;

    AdminFixture fixture;
    AdminSocketServer plain;
    AdminSocketServer withPolicies;
    EventLoopGroup group;
    List<ManagedChannel> channels = new ArrayList<>();
    TpmEnrollmentGrpc.TpmEnrollmentBlockingStub tpm;
    TpmEnrollmentGrpc.TpmEnrollmentBlockingStub tpmWithPolicies;

    @BeforeEach
    void setUp() throws Exception {
        fixture = new AdminFixture(dir);
        Files.createDirectories(dir.resolve("s"));
        plain = AdminSocketServer.start(dir.resolve("s").resolve("a.sock"), fixture.services());
        withPolicies = AdminSocketServer.start(dir.resolve("s").resolve("b.sock"), AdminServices.create(
                fixture.dataStore(), fixture.ca(), fixture.settings(), Clock.systemUTC(), new SecureRandom(),
                Optional.of(Set.of("prod-boot", "lab"))));
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        tpm = TpmEnrollmentGrpc.newBlockingStub(channel(plain.socketPath()));
        tpmWithPolicies = TpmEnrollmentGrpc.newBlockingStub(channel(withPolicies.socketPath()));
    }

    private ManagedChannel channel(Path socket) {
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class).eventLoopGroup(group)
                .withOption(io.netty.channel.ChannelOption.SO_KEEPALIVE, null).usePlaintext()
                .overrideAuthority("localhost").build();
        channels.add(channel);
        return channel;
    }

    @AfterEach
    void tearDown() throws Exception {
        for (ManagedChannel channel : channels) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        plain.close();
        withPolicies.close();
        fixture.close();
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    static CreateEnrollmentRequest.Builder byHash(String hash) {
        return CreateEnrollmentRequest.newBuilder().setEkHash(hash);
    }

    static StatusRuntimeException refused(Status.Code code, String message, Runnable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        assertEquals(message, e.getStatus().getDescription());
        return e;
    }

    @Test
    void create_byCertificate_hashIsTheKeysSpkiSha256_andPemKept() throws Exception {
        KeyPair ek = TestKeys.rsa2048(1);
        X509Certificate certificate = CA.leaf("spiffe://example.org/ek", ek.getPublic());
        Enrollment created = tpm.createEnrollment(CreateEnrollmentRequest.newBuilder()
                .setEkCertificate(ByteString.copyFrom(certificate.getEncoded()))
                .putLabels("rack", "r12").putLabels("role", "db").build());

        assertEquals(sha256(ek.getPublic().getEncoded()), created.getEkHash());
        assertEquals(Map.of("rack", "r12", "role", "db"), created.getLabelsMap());
        assertFalse(created.getRevoked());
        assertEquals(0, created.getRevokedAt());
        assertTrue(Math.abs(created.getCreatedAt() - System.currentTimeMillis() / 1000) < 60);
        String pem = created.getEkCertificatePem();
        assertTrue(pem.startsWith("-----BEGIN CERTIFICATE-----\n") && pem.endsWith("-----END CERTIFICATE-----\n"));
        String body = pem.substring(28, pem.length() - 26);
        assertEquals(List.of(certificate.getEncoded().length), List.of(Base64.getMimeDecoder().decode(body).length));
        assertEquals(created, tpm.getEnrollment(GetEnrollmentRequest.newBuilder()
                .setEkHash(created.getEkHash().toUpperCase(java.util.Locale.ROOT)).build()));
        assertEquals(Optional.of(pem), fixture.dataStore().getTpmEnrollment(created.getEkHash()).orElseThrow()
                .ekCertificatePem());
    }

    @Test
    void create_byPublicKey_rsaAndEc_andByHash() throws Exception {
        for (KeyPair ek : List.of(TestKeys.rsa2048(2), TestKeys.ecP256(2), TestKeys.ecP384(2))) {
            Enrollment created = tpm.createEnrollment(CreateEnrollmentRequest.newBuilder()
                    .setEkPublic(ByteString.copyFrom(ek.getPublic().getEncoded())).setPcrPolicy("anything").build());
            assertEquals(sha256(ek.getPublic().getEncoded()), created.getEkHash());
            assertEquals(EkHash.of(ek.getPublic()), created.getEkHash());
            assertEquals("", created.getEkCertificatePem());
            assertEquals("anything", created.getPcrPolicy(), "no tpm attestor: any well-formed name");
        }
        String hash = "AB".repeat(32);
        assertEquals("ab".repeat(32), tpm.createEnrollment(byHash(hash).build()).getEkHash());
        refused(Status.Code.ALREADY_EXISTS, DataStoreErrors.TPM_ENROLLMENT_EXISTS + ": \"" + "ab".repeat(32) + "\"",
                () -> tpm.createEnrollment(byHash("ab".repeat(32)).build()));
    }

    @Test
    void create_malformedEkMaterial_refusedNamingTheField_neverEchoingIt() throws Exception {
        KeyPair ek = TestKeys.rsa2048(3);
        byte[] privateKey = ek.getPrivate().getEncoded();
        StatusRuntimeException e = refused(Status.Code.INVALID_ARGUMENT, "ek_public: " + EkEncodings.PUBLIC_KEY_INVALID,
                () -> tpm.createEnrollment(CreateEnrollmentRequest.newBuilder()
                        .setEkPublic(ByteString.copyFrom(privateKey)).build()));
        assertFalse(e.toString().contains(Base64.getEncoder().encodeToString(privateKey).substring(0, 40)));
        X509Certificate certificate = CA.leaf("spiffe://example.org/ek", ek.getPublic());
        String pem = "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder().encodeToString(certificate.getEncoded()) + "\n-----END CERTIFICATE-----\n";
        Map<CreateEnrollmentRequest, String> cases = Map.of(
                CreateEnrollmentRequest.getDefaultInstance(), "ek: " + TpmEnrollmentProtos.EK_REQUIRED,
                CreateEnrollmentRequest.newBuilder().setEkCertificate(ByteString.copyFrom(pem, StandardCharsets.US_ASCII))
                        .build(), "ek_certificate: " + EkEncodings.CERTIFICATE_INVALID,
                CreateEnrollmentRequest.newBuilder().setEkCertificate(ByteString.copyFrom(ek.getPublic().getEncoded()))
                        .build(), "ek_certificate: " + EkEncodings.CERTIFICATE_INVALID,
                CreateEnrollmentRequest.newBuilder().setEkCertificate(ByteString.copyFrom(
                        concat(certificate.getEncoded(), new byte[] {0}))).build(),
                "ek_certificate: " + EkEncodings.CERTIFICATE_INVALID,
                CreateEnrollmentRequest.newBuilder().setEkCertificate(ByteString.copyFrom(
                        new byte[EkEncodings.MAX_CERTIFICATE_BYTES + 1])).build(),
                "ek_certificate: " + EkEncodings.CERTIFICATE_TOO_LARGE,
                CreateEnrollmentRequest.newBuilder().setEkPublic(ByteString.copyFrom(certificate.getEncoded())).build(),
                "ek_public: " + EkEncodings.PUBLIC_KEY_INVALID,
                CreateEnrollmentRequest.newBuilder().setEkPublic(ByteString.copyFrom(
                        new byte[EkEncodings.MAX_PUBLIC_KEY_BYTES + 1])).build(),
                "ek_public: " + EkEncodings.PUBLIC_KEY_TOO_LARGE,
                CreateEnrollmentRequest.newBuilder().setEkPublic(ByteString.copyFrom(new byte[] {0x30, (byte) 0x82}))
                        .build(), "ek_public: " + EkEncodings.PUBLIC_KEY_INVALID,
                byHash("abc").build(), "ek_hash: " + EkHash.MALFORMED);
        for (Map.Entry<CreateEnrollmentRequest, String> c : cases.entrySet()) {
            refused(Status.Code.INVALID_ARGUMENT, c.getValue(), () -> tpm.createEnrollment(c.getKey()));
        }
        assertTrue(fixture.dataStore().listTpmEnrollments(Optional.empty(),
                dev.bourne.appliance.datastore.PageRequest.ALL).items().isEmpty());
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void create_labelsAndPolicyName_checkedWithTheFieldNamed() {
        String hash = "1".repeat(64);
        refused(Status.Code.INVALID_ARGUMENT, "labels: " + Limits.TPM_LABEL_KEY_INVALID,
                () -> tpm.createEnrollment(byHash(hash).putLabels("Bad Key", "v").build()));
        refused(Status.Code.INVALID_ARGUMENT, "labels.k: " + Limits.TPM_LABEL_VALUE_INVALID,
                () -> tpm.createEnrollment(byHash(hash).putLabels("k", "a\u001b[31m").build()));
        CreateEnrollmentRequest.Builder many = byHash(hash);
        for (int i = 0; i <= Limits.MAX_TPM_LABELS; i++) {
            many.putLabels("k" + i, "v");
        }
        refused(Status.Code.INVALID_ARGUMENT, "labels: " + Limits.TOO_MANY_TPM_LABELS,
                () -> tpm.createEnrollment(many.build()));
        refused(Status.Code.INVALID_ARGUMENT, "pcr_policy: " + Limits.PCR_POLICY_NAME_INVALID,
                () -> tpm.createEnrollment(byHash(hash).setPcrPolicy("no spaces").build()));
    }

    @Test
    void create_withTpmAttestor_policyMustBeOneOfItsPolicies() {
        refused(Status.Code.INVALID_ARGUMENT, "pcr_policy: " + String.format(
                TpmEnrollmentAdminService.PCR_POLICY_UNKNOWN, "prod", "lab, prod-boot"),
                () -> tpmWithPolicies.createEnrollment(byHash("2".repeat(64)).setPcrPolicy("prod").build()));
        refused(Status.Code.INVALID_ARGUMENT, "pcr_policy: " + Limits.PCR_POLICY_NAME_INVALID,
                () -> tpmWithPolicies.createEnrollment(byHash("2".repeat(64)).setPcrPolicy("x\ny").build()));
        assertEquals("prod-boot", tpmWithPolicies.createEnrollment(byHash("2".repeat(64)).setPcrPolicy("prod-boot")
                .build()).getPcrPolicy());
        assertEquals("", tpmWithPolicies.createEnrollment(byHash("3".repeat(64)).build()).getPcrPolicy(),
                "no policy is always allowed");
    }

    @Test
    void batchCreate_reportsEachItem_inOrder() throws Exception {
        tpm.createEnrollment(byHash("4".repeat(64)).build());
        KeyPair ek = TestKeys.ecP256(5);
        BatchCreateEnrollmentResponse response = tpmWithPolicies.batchCreateEnrollment(BatchCreateEnrollmentRequest
                .newBuilder()
                .addEnrollments(byHash("5".repeat(64)).putLabels("a", "1"))
                .addEnrollments(byHash("4".repeat(64)))
                .addEnrollments(CreateEnrollmentRequest.newBuilder().setEkPublic(ByteString.copyFrom(
                        ek.getPublic().getEncoded())).setPcrPolicy("lab"))
                .addEnrollments(byHash("6".repeat(64)).setPcrPolicy("nope"))
                .addEnrollments(byHash("5".repeat(64)))
                .addEnrollments(CreateEnrollmentRequest.getDefaultInstance())
                .build());
        List<Integer> codes = response.getResultsList().stream().map(r -> r.getStatus().getCode()).toList();
        assertEquals(List.of(0, Status.Code.ALREADY_EXISTS.value(), 0, Status.Code.INVALID_ARGUMENT.value(),
                Status.Code.ALREADY_EXISTS.value(), Status.Code.INVALID_ARGUMENT.value()), codes);
        assertEquals("5".repeat(64), response.getResults(0).getEnrollment().getEkHash());
        assertEquals(EkHash.of(ek.getPublic()), response.getResults(2).getEnrollment().getEkHash());
        assertEquals("pcr_policy: " + String.format(TpmEnrollmentAdminService.PCR_POLICY_UNKNOWN, "nope",
                "lab, prod-boot"), response.getResults(3).getStatus().getMessage());
        assertEquals("ek: " + TpmEnrollmentProtos.EK_REQUIRED, response.getResults(5).getStatus().getMessage());
        assertFalse(response.getResults(1).hasEnrollment());
        assertEquals(3, fixture.dataStore().listTpmEnrollments(Optional.empty(),
                dev.bourne.appliance.datastore.PageRequest.ALL).items().size());
    }

    @Test
    void batchCreate_emptyOrOversized_refusedWhole() {
        refused(Status.Code.INVALID_ARGUMENT, "enrollments: " + AdminLimits.BATCH_EMPTY,
                () -> tpm.batchCreateEnrollment(BatchCreateEnrollmentRequest.getDefaultInstance()));
        BatchCreateEnrollmentRequest.Builder big = BatchCreateEnrollmentRequest.newBuilder();
        for (int i = 0; i <= TpmEnrollmentAdminService.MAX_BATCH; i++) {
            big.addEnrollments(byHash(String.format("%064x", i)));
        }
        refused(Status.Code.INVALID_ARGUMENT, "enrollments: " + TpmEnrollmentAdminService.BATCH_TOO_LARGE,
                () -> tpm.batchCreateEnrollment(big.build()));
        big.removeEnrollments(0);
        BatchCreateEnrollmentResponse ok = tpm.batchCreateEnrollment(big.build());
        assertEquals(TpmEnrollmentAdminService.MAX_BATCH, ok.getResultsCount());
        assertTrue(ok.getResultsList().stream().allMatch(r -> r.getStatus().getCode() == 0));
    }

    @Test
    void listGetRevoke() {
        for (int i = 0; i < 7; i++) {
            tpm.createEnrollment(byHash(String.format("%064x", i)).build());
        }
        Enrollment revoked = tpm.revokeEnrollment(RevokeEnrollmentRequest.newBuilder()
                .setEkHash(String.format("%064x", 3)).build());
        assertTrue(revoked.getRevoked());
        assertTrue(revoked.getRevokedAt() > 0);
        assertEquals(revoked.getRevokedAt(), tpm.revokeEnrollment(RevokeEnrollmentRequest.newBuilder()
                .setEkHash(String.format("%064x", 3)).build()).getRevokedAt(), "revoking twice keeps the first");

        List<String> all = new ArrayList<>();
        String token = "";
        do {
            ListEnrollmentsResponse page = tpm.listEnrollments(ListEnrollmentsRequest.newBuilder().setPageSize(3)
                    .setPageToken(token).build());
            assertTrue(page.getEnrollmentsCount() <= 3);
            page.getEnrollmentsList().forEach(e -> all.add(e.getEkHash()));
            token = page.getNextPageToken();
        } while (!token.isEmpty());
        assertEquals(7, all.size());
        assertEquals(List.of(String.format("%064x", 3)), tpm.listEnrollments(ListEnrollmentsRequest.newBuilder()
                .setFilter(ListEnrollmentsRequest.Filter.newBuilder().setByRevoked(1)).build())
                .getEnrollmentsList().stream().map(Enrollment::getEkHash).toList());
        assertEquals(6, tpm.listEnrollments(ListEnrollmentsRequest.newBuilder()
                .setFilter(ListEnrollmentsRequest.Filter.newBuilder().setByRevoked(2)).build()).getEnrollmentsCount());
        refused(Status.Code.INVALID_ARGUMENT, "filter.by_revoked: " + TpmEnrollmentAdminService.BY_REVOKED_INVALID,
                () -> tpm.listEnrollments(ListEnrollmentsRequest.newBuilder()
                        .setFilter(ListEnrollmentsRequest.Filter.newBuilder().setByRevoked(3)).build()));
        refused(Status.Code.INVALID_ARGUMENT, "page_size: " + AdminLimits.PAGE_SIZE_INVALID,
                () -> tpm.listEnrollments(ListEnrollmentsRequest.newBuilder().setPageSize(1001).build()));
        refused(Status.Code.INVALID_ARGUMENT, "page_token: " + Limits.PAGE_TOKEN_INVALID,
                () -> tpm.listEnrollments(ListEnrollmentsRequest.newBuilder().setPageToken("%%").build()));

        String unknown = "f".repeat(64);
        refused(Status.Code.NOT_FOUND, String.format(TpmEnrollmentAdminService.NOT_FOUND, unknown),
                () -> tpm.getEnrollment(GetEnrollmentRequest.newBuilder().setEkHash(unknown).build()));
        refused(Status.Code.NOT_FOUND, DataStoreErrors.TPM_ENROLLMENT_NOT_FOUND + ": \"" + unknown + "\"",
                () -> tpm.revokeEnrollment(RevokeEnrollmentRequest.newBuilder().setEkHash(unknown).build()));
        refused(Status.Code.INVALID_ARGUMENT, "ek_hash: " + EkHash.MALFORMED,
                () -> tpm.getEnrollment(GetEnrollmentRequest.newBuilder().setEkHash("xyz").build()));
        refused(Status.Code.INVALID_ARGUMENT, "ek_hash: " + EkHash.MALFORMED,
                () -> tpm.revokeEnrollment(RevokeEnrollmentRequest.getDefaultInstance()));
    }

    @Test
    void datastoreUnavailable_isUnavailable_withOnlyAnErrorId() {
        fixture.dataStore().close();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> tpm.createEnrollment(byHash("7".repeat(64)).build()));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().matches("the datastore is unavailable \\(error id [0-9a-f]{16}\\)"),
                e.getStatus().getDescription());
    }
}
