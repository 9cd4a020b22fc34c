set terminal pngcairo size 1000,450 enhanced
set encoding utf8
set output 'history.png'
set multiplot layout 1,2 title 'Si-PBE: test RMSE of each stage of train-si-pbe'
set xlabel 'stage'
set grid
set key top right
set xtics 1
set ylabel 'energy RMSE (meV/atom)'
set yrange [0:*]
plot 'history.dat' using 1:2 with linespoints title 'the test set of its time', \
     '' using 1:5 with linespoints title 'today''s test set (73 frames)', 5 with lines dt 2 title 'target'
set ylabel 'force RMSE (meV/Å)'
set yrange [80:*]
plot 'history.dat' using 1:3 with linespoints title 'the test set of its time', \
     '' using 1:6 with linespoints title 'today''s test set (73 frames)', 100 with lines dt 2 title 'target'
unset multiplot
