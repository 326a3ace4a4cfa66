package dev.bourne.workload.v1;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Pins workload.proto to the SPIFFE Workload API wire contract: no proto package (so method paths are
 * {@code /SpiffeWorkloadAPI/...}), and every message's field names, numbers, types and cardinality as in the
 * SPIFFE specification's workload.proto. Any SPIFFE client library depends on exactly these.
 */
class WorkloadProtoContractTest {

    @Test
    void service_hasNoPackageAndTheFiveSpecMethods() {
        ServiceDescriptor service = WorkloadProto.getDescriptor().findServiceByName("SpiffeWorkloadAPI");
        assertEquals("", WorkloadProto.getDescriptor().getPackage());
        assertEquals("SpiffeWorkloadAPI", service.getFullName());
        Map<String, String> methods = new TreeMap<>();
        for (MethodDescriptor method : service.getMethods()) {
            methods.put(method.getName(), method.getInputType().getFullName() + " -> "
                    + (method.isServerStreaming() ? "stream " : "") + method.getOutputType().getFullName()
                    + (method.isClientStreaming() ? " (client streaming)" : ""));
        }
        assertEquals(Map.of(
                "FetchX509SVID", "X509SVIDRequest -> stream X509SVIDResponse",
                "FetchX509Bundles", "X509BundlesRequest -> stream X509BundlesResponse",
                "FetchJWTSVID", "JWTSVIDRequest -> JWTSVIDResponse",
                "FetchJWTBundles", "JWTBundlesRequest -> stream JWTBundlesResponse",
                "ValidateJWTSVID", "ValidateJWTSVIDRequest -> ValidateJWTSVIDResponse"), methods);
        assertEquals("SpiffeWorkloadAPI/FetchX509SVID",
                SpiffeWorkloadAPIGrpc.getFetchX509SVIDMethod().getFullMethodName());
    }

    @Test
    void messages_matchSpecFieldNumbersAndTypes() {
        assertFields(X509SVIDRequest.getDescriptor(), Map.of());
        assertFields(X509SVIDResponse.getDescriptor(), ordered(
                "svids", "1 repeated MESSAGE X509SVID",
                "crl", "2 repeated BYTES",
                "federated_bundles", "3 map<STRING,BYTES>"));
        assertFields(X509SVID.getDescriptor(), ordered(
                "spiffe_id", "1 STRING",
                "x509_svid", "2 BYTES",
                "x509_svid_key", "3 BYTES",
                "bundle", "4 BYTES",
                "hint", "5 STRING"));
        assertFields(X509BundlesRequest.getDescriptor(), Map.of());
        assertFields(X509BundlesResponse.getDescriptor(), ordered(
                "crl", "1 repeated BYTES",
                "bundles", "2 map<STRING,BYTES>"));
        assertFields(JWTSVIDRequest.getDescriptor(), ordered(
                "audience", "1 repeated STRING",
                "spiffe_id", "2 STRING"));
        assertFields(JWTSVIDResponse.getDescriptor(), ordered("svids", "1 repeated MESSAGE JWTSVID"));
        assertFields(JWTSVID.getDescriptor(), ordered(
                "spiffe_id", "1 STRING",
                "svid", "2 STRING",
                "hint", "3 STRING"));
        assertFields(JWTBundlesRequest.getDescriptor(), Map.of());
        assertFields(JWTBundlesResponse.getDescriptor(), ordered("bundles", "1 map<STRING,BYTES>"));
        assertFields(ValidateJWTSVIDRequest.getDescriptor(), ordered(
                "audience", "1 STRING",
                "svid", "2 STRING"));
        assertFields(ValidateJWTSVIDResponse.getDescriptor(), ordered(
                "spiffe_id", "1 STRING",
                "claims", "2 MESSAGE google.protobuf.Struct"));
    }

    @Test
    void x509Svid_encodesToSpecWireBytes() {
        byte[] encoded = X509SVID.newBuilder()
                .setSpiffeId("spiffe://a/b")
                .setX509Svid(ByteString.copyFrom(new byte[] {1, 2}))
                .setHint("h")
                .build()
                .toByteArray();
        byte[] expected = concat(
                new byte[] {0x0a, 12}, "spiffe://a/b".getBytes(StandardCharsets.US_ASCII), // field 1, LEN
                new byte[] {0x12, 2, 1, 2},                                                  // field 2, LEN
                new byte[] {0x2a, 1, 'h'});                                                  // field 5, LEN
        assertArrayEquals(expected, encoded);
    }

    private static void assertFields(Descriptor message, Map<String, String> expected) {
        Map<String, String> actual = new LinkedHashMap<>();
        for (FieldDescriptor field : message.getFields()) {
            actual.put(field.getName(), describe(field));
        }
        assertEquals(expected, actual, message.getFullName());
    }

    private static String describe(FieldDescriptor field) {
        if (field.isMapField()) {
            Descriptor entry = field.getMessageType();
            return field.getNumber() + " map<" + entry.findFieldByName("key").getType() + ","
                    + entry.findFieldByName("value").getType() + ">";
        }
        String type = field.getType().toString();
        if (field.getType() == FieldDescriptor.Type.MESSAGE) {
            type += " " + field.getMessageType().getFullName();
        }
        return field.getNumber() + " " + (field.isRepeated() ? "repeated " : "") + type;
    }

    private static Map<String, String> ordered(String... pairs) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            out.put(pairs[i], pairs[i + 1]);
        }
        return out;
    }

    private static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] part : parts) {
            length += part.length;
        }
        byte[] out = new byte[length];
        int offset = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, out, offset, part.length);
            offset += part.length;
        }
        return out;
    }
}
