/**
 * The agent half of OpenStack IID attestation: reads the instance identity document from the metadata service's
 * {@code vendor_data2.json} (short timeouts, bounded size) and sends it as the attestation payload.
 */
package dev.bourne.openstack.agent;
