/**
 * The server half of OpenStack IID attestation: verifies the document's JWS against configured keys (never keys from
 * the node), its claims, single use of its {@code jti}, the project allowlist and, optionally, Nova's view of the
 * instance (failing closed).
 */
package dev.bourne.openstack.server;
