# Guide §8.9: runtime PM: start it, shorten the idle delay, let the card sleep, wake it.
# @config t20-rpm
sudo ./enflame-xxx.run
sudo echo "start" > /sys/class/enflame/gcu0/device/rpm/switch
sudo echo 5000 > /sys/class/enflame/gcu0/device/rpm/rpm_sleep_delay
# @wait 6000
sudo cat /sys/class/enflame/gcu0/device/rpm/status
./app /dev/gcu0 &
sudo cat /sys/class/enflame/gcu0/device/rpm/usage_count
sudo echo add:efvs > /sys/class/enflame/gcu0/device/rpm/whitelist
kill %1
sudo cat /sys/class/enflame/gcu0/device/rpm/wakeup_count
sudo echo "stop" > /sys/class/enflame/gcu0/device/rpm/switch
