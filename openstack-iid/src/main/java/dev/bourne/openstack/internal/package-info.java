/** Plumbing shared by this module's halves and not part of its API: bounded HTTP exchanges, JSON answers. */
package dev.bourne.openstack.internal;
