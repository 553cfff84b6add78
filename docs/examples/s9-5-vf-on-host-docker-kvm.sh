# Guide §9.5: a VF used on the host, by a docker container, and by a KVM guest.
# @config s60-sriov-2vf
sudo ./enflame-xxx.run --virt-host --vf-num 2
./app /dev/gcu1 &
kill %1
sudo docker run -it --name gcu0_test --device /dev/gcu1:/dev/gcu1 --device=/dev/gcuctl:/dev/gcuctl -v /home:/home -v /root/:/root/ --network host ubuntu:20.04
sudo docker stop gcu0_test
GcuSriovMgr --slot 0000:01:00.2 --bind
vf_bdf=0000:01:00.2
qemu-system-x86_64 -M q35 -m 16G -smp 8 -enable-kvm -device vfio-pci,bus=downstream1,host=$vf_bdf
[vm0] sudo ./enflame-xxx.run
[vm0] ./app &
[vm0] kill %1
[vm0] poweroff
GcuSriovMgr --slot 0000:01:00.2 --unbind
