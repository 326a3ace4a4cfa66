package dev.bourne.openstack.common;

import java.time.Duration;

/**
 * The OpenStack instance identity document (IID) protocol's fixed values (ARCHITECTURE.md section 3, docs/openstack.md).
 *
 * <p>The IID is a compact JWS whose claims are an {@link IidClaims}. The vendordata service signs it when Nova's
 * DynamicJSON vendordata asks (once per metadata request); Nova hands it to the instance inside
 * {@code vendor_data2.json} under the target's name, as {@code {"<name>": {"data": "<jws>"}}}; the agent sends the JWS,
 * as UTF-8 bytes and nothing else, as its attestation payload; the server verifies it. There are no challenges: the
 * document is short-lived ({@link #MAX_TTL}) and single use (its {@code jti}).
 */
public final class OpenStackIid {
    /** The plugin name: the attestation data type, the selector type and the agent ID segment. */
    public static final String PLUGIN_NAME = "openstack_iid";
    /** The longest lifetime a document may have: {@code exp - iat}. */
    public static final Duration MAX_TTL = Duration.ofMinutes(10);
    /**
     * The largest compact JWS accepted anywhere (agent, server): an IID with Nova's own metadata limits (128 items of
     * 255-character keys and values) fits in about 90 KiB after base64url; anything larger is not ours.
     */
    public static final int MAX_JWS_BYTES = 96 * 1024;
    /** The vendordata target name the agent looks for in {@code vendor_data2.json} unless configured otherwise. */
    public static final String DEFAULT_VENDORDATA_NAME = "bourne";
    /** The JSON member of the vendordata response (and of the target's object in vendor_data2.json) holding the JWS. */
    public static final String DATA_MEMBER = "data";
    /** The JWS {@code typ} header the vendordata service writes and the server requires. */
    public static final String JWS_TYPE = "openstack-iid+jwt";

    private OpenStackIid() {
    }
}
