package dev.bourne.keymanager.pkcs11.internal;

import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_CERTIFICATE_TYPE;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_CLASS;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_DECRYPT;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_DERIVE;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_EC_PARAMS;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_EC_POINT;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_EXTRACTABLE;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_ID;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_KEY_TYPE;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_LABEL;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_MODULUS;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_MODULUS_BITS;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_PRIVATE;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_PUBLIC_EXPONENT;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_SENSITIVE;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_SIGN;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_SUBJECT;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_TOKEN;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_UNWRAP;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_VALUE;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKA_VERIFY;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKC_X_509;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKF_OS_LOCKING_OK;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKF_RW_SESSION;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKF_SERIAL_SESSION;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKK_EC;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKK_RSA;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKM_ECDSA;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKM_EC_KEY_PAIR_GEN;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKM_RSA_PKCS_KEY_PAIR_GEN;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKM_SHA256_RSA_PKCS;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKO_CERTIFICATE;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKO_PRIVATE_KEY;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKO_PUBLIC_KEY;
import static sun.security.pkcs11.wrapper.PKCS11Constants.CKU_USER;

import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import sun.security.pkcs11.wrapper.CK_ATTRIBUTE;
import sun.security.pkcs11.wrapper.CK_C_INITIALIZE_ARGS;
import sun.security.pkcs11.wrapper.CK_MECHANISM;
import sun.security.pkcs11.wrapper.CK_TOKEN_INFO;
import sun.security.pkcs11.wrapper.PKCS11;
import sun.security.pkcs11.wrapper.PKCS11Exception;

/**
 * The one place that calls the JDK's internal PKCS#11 wrapper ({@code sun.security.pkcs11.wrapper}), for what the
 * public SunPKCS11 provider cannot do: list slots and read token labels (SunPKCS11 has no token-label option), log
 * in, generate key pairs born with their {@code CKA_LABEL} and {@code CKA_ID}, find objects by label, create the holder
 * certificate that makes a key visible through the PKCS#11 {@code KeyStore}, destroy replaced objects, and read
 * {@code CKA_SENSITIVE}/{@code CKA_EXTRACTABLE}.
 *
 * <p>Why the internal API: it is the JDK's own binding, it shares the initialised module with SunPKCS11 for the same
 * library path ({@code PKCS11.getInstance} caches per path, and {@code C_Initialize} may run only once per process),
 * and it adds no native dependency. It needs {@code --add-exports
 * jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED} at compile and run time. Nothing outside this class
 * sees a wrapper type: the rest of the key manager speaks JDK types and {@link Pkcs11Failure}.
 *
 * <p>Every call goes through {@link #call}, the native boundary, which turns anything the module throws into a
 * {@link Pkcs11Failure}.
 */
public final class Pkcs11Module {

    /** PKCS#11 return values the key manager acts on (PKCS#11 v2.40, section 11.1). */
    public static final long CKR_PIN_INCORRECT = 0xA0L;
    public static final long CKR_PIN_INVALID = 0xA1L;
    public static final long CKR_PIN_LEN_RANGE = 0xA2L;
    public static final long CKR_PIN_EXPIRED = 0xA3L;
    public static final long CKR_PIN_LOCKED = 0xA4L;
    private static final long CKR_USER_ALREADY_LOGGED_IN = 0x100L;
    private static final long CKR_GENERAL_ERROR = 0x5L;
    private static final long CKR_DEVICE_ERROR = 0x30L;
    private static final long CKR_DEVICE_MEMORY = 0x31L;
    private static final long CKR_DEVICE_REMOVED = 0x32L;
    private static final long CKR_SESSION_CLOSED = 0xB0L;
    private static final long CKR_SESSION_HANDLE_INVALID = 0xB3L;
    private static final long CKR_TOKEN_NOT_PRESENT = 0xE0L;
    private static final long CKR_TOKEN_NOT_RECOGNIZED = 0xE1L;
    private static final long CKR_USER_NOT_LOGGED_IN = 0x101L;
    private static final long CKR_CRYPTOKI_NOT_INITIALIZED = 0x190L;

    /**
     * Mechanisms this class signs with directly: only for the holder certificate, before SunPKCS11 sees the key.
     * ECDSA signs a digest the caller computed (CKM_ECDSA): SoftHSM2 2.6 and several HSMs lack CKM_ECDSA_SHA256.
     */
    public enum RawMechanism {
        ECDSA_PREHASHED(CKM_ECDSA),
        RSA_PKCS1_SHA256(CKM_SHA256_RSA_PKCS);

        private final long mechanism;

        RawMechanism(long mechanism) {
            this.mechanism = mechanism;
        }
    }

    /** The kind of a token object. */
    public enum ObjectClass {
        PRIVATE_KEY(CKO_PRIVATE_KEY),
        PUBLIC_KEY(CKO_PUBLIC_KEY),
        CERTIFICATE(CKO_CERTIFICATE);

        private final long value;

        ObjectClass(long value) {
            this.value = value;
        }
    }

    /** A token object found by {@link Session#findObjects}: its handle, class, label and id. */
    public record TokenObject(long handle, ObjectClass objectClass, String label, byte[] id) {
    }

    /** The protection attributes of a private key. */
    public record KeyProtection(boolean token, boolean isPrivate, boolean sensitive, boolean extractable) {
    }

    private final PKCS11 p11;
    private final Path library;

    private Pkcs11Module(PKCS11 p11, Path library) {
        this.p11 = p11;
        this.library = library;
    }

    /**
     * Loads and initialises the module at {@code library}, or returns the one this JVM (SunPKCS11 included) already
     * initialised from that path.
     */
    public static Pkcs11Module open(Path library) throws Pkcs11Failure {
        PKCS11 p11 = call("load the PKCS#11 module", () -> {
            // The same arguments as SunPKCS11 uses, so whichever of us initialises the module first, both agree.
            CK_C_INITIALIZE_ARGS args = new CK_C_INITIALIZE_ARGS();
            args.flags = CKF_OS_LOCKING_OK;
            return PKCS11.getInstance(library.toString(), "C_GetFunctionList", args, false);
        });
        return new Pkcs11Module(p11, library);
    }

    public Path library() {
        return library;
    }

    /**
     * Labels of the tokens present, by slot id, with the padding blanks PKCS#11 adds removed. A slot whose token
     * cannot describe itself (a token deleted or failing since the module started) is left out rather than hiding the
     * others.
     */
    public Map<Long, String> tokenLabels() throws Pkcs11Failure {
        long[] slots = call("list the slots", () -> p11.C_GetSlotList(true));
        java.util.LinkedHashMap<Long, String> labels = new java.util.LinkedHashMap<>();
        for (long slot : slots) {
            try {
                CK_TOKEN_INFO info = call("read a token's label", () -> p11.C_GetTokenInfo(slot));
                labels.put(slot, new String(info.label).strip());
            } catch (Pkcs11Failure e) {
                // Skipped: see above.
            }
        }
        return labels;
    }

    /** The slot holding the token labelled {@code label}, if exactly one does. */
    public OptionalLong findSlot(String label) throws Pkcs11Failure {
        Map<Long, String> labels = tokenLabels();
        List<Long> matches = labels.entrySet().stream().filter(e -> e.getValue().equals(label)).map(Map.Entry::getKey)
                .toList();
        if (matches.size() > 1) {
            throw new Pkcs11Failure("find the token", "several tokens are labelled \"" + label + "\" (slots "
                    + matches + "); token labels must be unique", -1, null);
        }
        return matches.isEmpty() ? OptionalLong.empty() : OptionalLong.of(matches.get(0));
    }

    /** Opens a read-write session on {@code slot}, for object management; not thread-safe, close it when done. */
    public Session openSession(long slot) throws Pkcs11Failure {
        long handle = call("open a session", () -> p11.C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, null,
                null));
        return new Session(handle);
    }

    /** One PKCS#11 session. Synchronized: the key manager's management calls share it. */
    public final class Session implements AutoCloseable {
        private final long handle;
        private boolean closed;

        private Session(long handle) {
            this.handle = handle;
        }

        /**
         * Logs the user in (for the whole application: PKCS#11 login state is per token, shared by every session
         * including SunPKCS11's). Already logged in counts as success.
         */
        public synchronized void login(char[] pin) throws Pkcs11Failure {
            try {
                call("log in", () -> {
                    p11.C_Login(handle, CKU_USER, pin);
                    return null;
                });
            } catch (Pkcs11Failure e) {
                if (e.errorCode() != CKR_USER_ALREADY_LOGGED_IN) {
                    throw e;
                }
            }
        }

        /**
         * Generates an EC key pair on {@code curveOidDer} or an RSA pair of {@code rsaBits}, as token objects labelled
         * {@code label} with {@code id}. The private key is private, sensitive, never extractable and can only sign.
         *
         * @return the handles {@code [public, private]}
         */
        public synchronized long[] generateKeyPair(byte[] curveOidDer, int rsaBits, String label, byte[] id)
                throws Pkcs11Failure {
            List<CK_ATTRIBUTE> publicTemplate = new ArrayList<>(List.of(
                    new CK_ATTRIBUTE(CKA_TOKEN, true),
                    new CK_ATTRIBUTE(CKA_PRIVATE, false),
                    new CK_ATTRIBUTE(CKA_VERIFY, true),
                    new CK_ATTRIBUTE(CKA_LABEL, label.toCharArray()),
                    new CK_ATTRIBUTE(CKA_ID, id)));
            // Why each private attribute: a token object survives restarts; private needs login to use; sensitive
            // and not extractable keep the value inside the token for ever (CKA_ALWAYS_SENSITIVE and
            // CKA_NEVER_EXTRACTABLE follow); sign only, so the key cannot decrypt, unwrap or derive.
            List<CK_ATTRIBUTE> privateTemplate = new ArrayList<>(List.of(
                    new CK_ATTRIBUTE(CKA_TOKEN, true),
                    new CK_ATTRIBUTE(CKA_PRIVATE, true),
                    new CK_ATTRIBUTE(CKA_SENSITIVE, true),
                    new CK_ATTRIBUTE(CKA_EXTRACTABLE, false),
                    new CK_ATTRIBUTE(CKA_SIGN, true),
                    new CK_ATTRIBUTE(CKA_DECRYPT, false),
                    new CK_ATTRIBUTE(CKA_UNWRAP, false),
                    new CK_ATTRIBUTE(CKA_DERIVE, false),
                    new CK_ATTRIBUTE(CKA_LABEL, label.toCharArray()),
                    new CK_ATTRIBUTE(CKA_ID, id)));
            CK_MECHANISM mechanism;
            if (curveOidDer != null) {
                mechanism = new CK_MECHANISM(CKM_EC_KEY_PAIR_GEN);
                publicTemplate.add(new CK_ATTRIBUTE(CKA_EC_PARAMS, curveOidDer));
            } else {
                mechanism = new CK_MECHANISM(CKM_RSA_PKCS_KEY_PAIR_GEN);
                publicTemplate.add(new CK_ATTRIBUTE(CKA_MODULUS_BITS, (long) rsaBits));
                publicTemplate.add(new CK_ATTRIBUTE(CKA_PUBLIC_EXPONENT, BigInteger.valueOf(65537)));
            }
            return call("generate a key pair", () -> p11.C_GenerateKeyPair(handle, mechanism,
                    publicTemplate.toArray(new CK_ATTRIBUTE[0]), privateTemplate.toArray(new CK_ATTRIBUTE[0])));
        }

        /** {@code CKA_EC_POINT} of an EC public key, as the module returns it (usually a DER OCTET STRING). */
        public synchronized byte[] ecPoint(long publicKey) throws Pkcs11Failure {
            return bytes(publicKey, CKA_EC_POINT);
        }

        /** {@code CKA_MODULUS} and {@code CKA_PUBLIC_EXPONENT} of an RSA public key. */
        public synchronized BigInteger[] rsaPublic(long publicKey) throws Pkcs11Failure {
            return new BigInteger[] {new BigInteger(1, bytes(publicKey, CKA_MODULUS)),
                    new BigInteger(1, bytes(publicKey, CKA_PUBLIC_EXPONENT))};
        }

        /** Whether {@code key} is an EC key (else RSA). */
        public synchronized boolean isEcKey(long key) throws Pkcs11Failure {
            CK_ATTRIBUTE[] template = {new CK_ATTRIBUTE(CKA_KEY_TYPE)};
            call("read the key type", () -> {
                p11.C_GetAttributeValue(handle, key, template);
                return null;
            });
            long type = template[0].getLong();
            if (type != CKK_EC && type != CKK_RSA) {
                throw new Pkcs11Failure("read the key type", "neither an EC nor an RSA key (CKK " + type + ")", -1,
                        null);
            }
            return type == CKK_EC;
        }

        /** {@code CKA_EC_PARAMS} of an EC key (the curve's DER OID). */
        public synchronized byte[] ecParams(long key) throws Pkcs11Failure {
            return bytes(key, CKA_EC_PARAMS);
        }

        /** The token, private, sensitive and extractable flags of a private key. */
        public synchronized KeyProtection protection(long privateKey) throws Pkcs11Failure {
            CK_ATTRIBUTE[] template = {new CK_ATTRIBUTE(CKA_TOKEN), new CK_ATTRIBUTE(CKA_PRIVATE),
                    new CK_ATTRIBUTE(CKA_SENSITIVE), new CK_ATTRIBUTE(CKA_EXTRACTABLE)};
            call("read the key's protection", () -> {
                p11.C_GetAttributeValue(handle, privateKey, template);
                return null;
            });
            return new KeyProtection(template[0].getBoolean(), template[1].getBoolean(), template[2].getBoolean(),
                    template[3].getBoolean());
        }

        /** Signs {@code data} with {@code key} inside the token. */
        public synchronized byte[] sign(long key, RawMechanism mechanism, byte[] data) throws Pkcs11Failure {
            return call("sign", () -> {
                p11.C_SignInit(handle, new CK_MECHANISM(mechanism.mechanism), key);
                return p11.C_Sign(handle, data);
            });
        }

        /** Stores an X.509 certificate as a public token object labelled {@code label} with {@code id}. */
        public synchronized long createCertificate(String label, byte[] id, byte[] subjectDer, byte[] der)
                throws Pkcs11Failure {
            CK_ATTRIBUTE[] template = {
                new CK_ATTRIBUTE(CKA_CLASS, CKO_CERTIFICATE),
                new CK_ATTRIBUTE(CKA_CERTIFICATE_TYPE, CKC_X_509),
                new CK_ATTRIBUTE(CKA_TOKEN, true),
                new CK_ATTRIBUTE(CKA_PRIVATE, false),
                new CK_ATTRIBUTE(CKA_LABEL, label.toCharArray()),
                new CK_ATTRIBUTE(CKA_ID, id),
                new CK_ATTRIBUTE(CKA_SUBJECT, subjectDer),
                new CK_ATTRIBUTE(CKA_VALUE, der)};
            return call("store the holder certificate", () -> p11.C_CreateObject(handle, template));
        }

        /** Token objects of {@code objectClass}, with their labels and ids; {@code label} null for all. */
        public synchronized List<TokenObject> findObjects(ObjectClass objectClass, String label) throws Pkcs11Failure {
            List<CK_ATTRIBUTE> template = new ArrayList<>(List.of(new CK_ATTRIBUTE(CKA_CLASS, objectClass.value),
                    new CK_ATTRIBUTE(CKA_TOKEN, true)));
            if (label != null) {
                template.add(new CK_ATTRIBUTE(CKA_LABEL, label.toCharArray()));
            }
            List<Long> handles = call("find objects", () -> {
                List<Long> found = new ArrayList<>();
                p11.C_FindObjectsInit(handle, template.toArray(new CK_ATTRIBUTE[0]));
                try {
                    while (true) {
                        long[] batch = p11.C_FindObjects(handle, 64);
                        if (batch == null || batch.length == 0) {
                            break;
                        }
                        for (long h : batch) {
                            found.add(h);
                        }
                    }
                } finally {
                    p11.C_FindObjectsFinal(handle);
                }
                return found;
            });
            List<TokenObject> objects = new ArrayList<>();
            for (long object : handles) {
                CK_ATTRIBUTE[] attributes = {new CK_ATTRIBUTE(CKA_LABEL), new CK_ATTRIBUTE(CKA_ID)};
                call("read labels", () -> {
                    p11.C_GetAttributeValue(handle, object, attributes);
                    return null;
                });
                char[] labelChars = attributes[0].pValue == null ? new char[0] : attributes[0].getCharArray();
                byte[] id = attributes[1].pValue == null ? new byte[0] : attributes[1].getByteArray();
                objects.add(new TokenObject(object, objectClass, new String(labelChars), id));
            }
            return objects;
        }

        /** Destroys a token object. */
        public synchronized void destroy(long object) throws Pkcs11Failure {
            call("destroy an object", () -> {
                p11.C_DestroyObject(handle, object);
                return null;
            });
        }

        private byte[] bytes(long object, long attribute) throws Pkcs11Failure {
            CK_ATTRIBUTE[] template = {new CK_ATTRIBUTE(attribute)};
            call("read a key attribute", () -> {
                p11.C_GetAttributeValue(handle, object, template);
                return null;
            });
            return template[0].getByteArray();
        }

        /** Closes the session; never throws (the module may already be gone). */
        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                call("close a session", () -> {
                    p11.C_CloseSession(handle);
                    return null;
                });
            } catch (Pkcs11Failure e) {
                // Nothing to do: a session of a module that failed is gone with it.
            }
        }
    }

    /**
     * True when {@code failure}, thrown by SunPKCS11 while signing, says the module or token failed (device error,
     * token or session gone, module not initialised), as opposed to a problem with the key or the data: the key manager
     * then reconnects.
     */
    public static boolean isDeviceFailure(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof PKCS11Exception e) {
                long code = e.getErrorCode();
                return code == CKR_GENERAL_ERROR || code == CKR_DEVICE_ERROR || code == CKR_DEVICE_MEMORY
                        || code == CKR_DEVICE_REMOVED || code == CKR_SESSION_CLOSED
                        || code == CKR_SESSION_HANDLE_INVALID || code == CKR_TOKEN_NOT_PRESENT
                        || code == CKR_TOKEN_NOT_RECOGNIZED || code == CKR_CRYPTOKI_NOT_INITIALIZED
                        || code == CKR_USER_NOT_LOGGED_IN;
            }
        }
        return false;
    }

    /** A call into the native module. */
    @FunctionalInterface
    private interface NativeCall<T> {
        T run() throws Exception;
    }

    /**
     * The native boundary. A PKCS#11 module is foreign code: besides PKCS11Exception its failures reach Java as
     * IOException (the library cannot be loaded), UnsatisfiedLinkError, ProviderException or InternalError from the
     * JNI glue. Catching Throwable here, once, lets the key manager turn any of them into a status instead of a thread
     * dying; only VirtualMachineErrors (out of memory, stack overflow) are not the module's and propagate.
     */
    private static <T> T call(String action, NativeCall<T> nativeCall) throws Pkcs11Failure {
        try {
            return nativeCall.run();
        } catch (VirtualMachineError e) {
            throw e;
        } catch (PKCS11Exception e) {
            throw new Pkcs11Failure(action, e.getMessage(), e.getErrorCode(), e);
        } catch (Throwable e) {
            throw new Pkcs11Failure(action, e.getClass().getSimpleName() + ": " + e.getMessage(), -1, e);
        }
    }

}
