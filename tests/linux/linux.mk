# tests/linux/linux.mk: the Linux guest (included by the top Makefile): Debian's cloud
# kernel as installed by tools/setup (whichever version is there; any other installed
# kernel if there is none) and an initramfs of busybox-static with tests/linux/init.

LINUX_KERNEL ?= $(lastword $(sort $(wildcard /boot/vmlinuz-*-cloud-amd64)) \
	$(if $(wildcard /boot/vmlinuz-*-cloud-amd64),,$(sort $(wildcard /boot/vmlinuz-*))))
LINUX_INITRAMFS := $(BUILD)/linux/initramfs.cpio.gz

.PHONY: linux
linux: $(LINUX_INITRAMFS)

$(LINUX_INITRAMFS): tests/linux/init tools/mkinitramfs
	@mkdir -p $(dir $@)
	@echo "  INITRAMFS $@"
	$(Q)tools/mkinitramfs $@ tests/linux/init
