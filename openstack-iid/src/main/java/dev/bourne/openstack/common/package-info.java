/** The OpenStack IID protocol shared by agent, server and signing service: the claims and the JWS format. */
package dev.bourne.openstack.common;
