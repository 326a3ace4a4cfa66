/**
 * The IID signing service Nova's DynamicJSON vendordata calls: authenticates Nova, signs an IID with a key held in the
 * KeyManager (PKCS#11 in production) and publishes its public keys as a JWK set.
 */
package dev.bourne.openstack.vendordata;
