# Guide §11.2: ways to reset a GCU: warm reset by remove and rescan, efsmi, gcu_reload,
# and reloading the KMD with only one card enabled.
# @config t20-2card
sudo ./enflame-xxx.run
efsmi -F -r -i 0
echo 1 > /sys/class/enflame/gcu0/device/gcu_reload
# @wait 200
echo 1 > /sys/bus/pci/devices/0000:01:00.0/gcu_reload
# @wait 200
sudo rmmod enflame
# the guide's example value 00:01.0 names a card at 0000:00:01.0; this host's first card is 01:00.0
echo 'options enflame "gcu_whitelist_str=01:00.0"' >> /etc/modprobe.d/gcu.conf
sudo modprobe enflame
ls /sys/class/enflame
