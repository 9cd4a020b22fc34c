set terminal pngcairo size 800,600 enhanced
set encoding utf8
set output 'parity_forces.png'
set title 'test forces: RMSE 124.9 meV/Å (3633 values)'
set xlabel 'reference force component (eV/Å)'
set ylabel 'predicted force component (eV/Å)'
set size square
set grid
set key top left
plot 'parity_forces.dat' using 1:2 with points pt 7 ps 0.5 title 'test', x with lines lc rgb 'gray' title 'y = x'
